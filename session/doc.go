// Package session keeps the application's own login state after WeChat's
// code2session: an opaque token for the client, the session (openid,
// unionid, session_key) on the server, a check of the token on every
// request, and expiry.
//
// The session_key must never reach the client, and the openid is no secret:
// neither makes a login token. [Manager.Issue] returns 32 random bytes
// (crypto/rand, unpadded base64url) and keeps the session in a [Store] under
// the SHA-256 of the token, so that a leaked store yields no usable token.
//
// # Wiring a login
//
// A complete login server takes a few lines:
//
//	app, err := wxauth.New(os.Getenv("WX_APPID"), os.Getenv("WX_SECRET"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	sessions := session.NewManager(nil, session.WithTTL(12*time.Hour)) // nil: in memory
//	if err := sessions.Err(); err != nil {
//		log.Fatal(err)
//	}
//	defer sessions.Close()
//
//	mux := http.NewServeMux()
//	mux.Handle("POST /api/login", session.LoginHandler(app, sessions))
//	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(me)))
//
//	func me(w http.ResponseWriter, r *http.Request) {
//		rec, _ := session.FromContext(r.Context()) // always there behind the middleware
//		fmt.Fprintf(w, "hello %s", rec.OpenID)
//	}
//
// The mini-program posts {"code": "..."} (the code from wx.login, and
// optionally rawData, signature, encryptedData and iv from
// wx.getUserProfile) to /api/login, keeps the token it gets back and sends
// it as "Authorization: Bearer <token>". [LoginHandler] lists every answer
// and its status; [WithOnLogin] maps the WeChat user to the application's
// own (create, look up, bind a phone), adds fields to the response or
// refuses the login.
//
// # Tokens and expiry
//
// A token is valid for [DefaultTTL] (24 h; [WithTTL]) from its issue, with no
// renewal: the mini-program calls wx.login again (silently) when its token
// is refused. [Manager.Validate] tells a token that expired ([ErrExpired])
// from one that is unknown or malformed ([ErrInvalidToken]); a store keeps
// an expired record ten more minutes so that the difference can be seen.
// [Manager.Revoke] ends a login (logout).
//
// The session_key kept with a login stops working at WeChat when the user
// calls wx.login again elsewhere. An endpoint that needs it (to decrypt data
// the client sends after login) sits behind [Manager.RequireSessionKey],
// which asks WeChat ([wxauth.App.CheckSessionKey]) and answers 401
// session_key_expired when the key is stale, so the client logs in anew.
//
// # Stores
//
// [NewManager] with a nil store keeps sessions in a [MemoryStore]: safe for
// concurrent use, sharded, bounded in size, swept of expired records in the
// background until [Manager.Close]. An application that runs on more than one
// machine uses package github.com/wxmp/miniauth/session/redisstore (single
// node, Sentinel or Cluster). A store that cannot be reached makes
// [Manager.Validate] fail with [ErrStoreUnavailable], never
// [ErrInvalidToken]: the middleware answers 503 and the client keeps its
// token and retries, instead of throwing its login away during an outage.
// Other stores implement the [Store] interface, whose contract states these
// rules.
//
// The built-in stores index sessions by user ([Record.Owner]: the subject,
// or the openid of a session without one), so [Manager.RevokeAll] logs a
// user out everywhere, and one user holds at most [DefaultMaxPerSubject]
// sessions. Every store call is bounded ([WithStoreTimeout], 1 s): a hung
// store costs a request one short wait and a 503; the Manager logs an
// outage once when it starts and once when it ends, and [LoginHandler]
// refuses logins while the store is known to be down, before it spends
// their wx.login codes.
//
// # HTTP answers
//
// [Manager.Middleware] and [LoginHandler] answer refused requests with a
// status and a JSON body {"error": "<machine code>", "message": "<text>"};
// the codes are the Code* constants. The message is fixed for each code: it
// never repeats WeChat's or the store's error text. [WithErrorHandler]
// replaces how these answers are written. Every answer carries
// Cache-Control: no-store.
//
// # Secrets
//
// Tokens, codes and session_keys never appear in a log line or an error
// string. A [Record] leaves its SessionKey out of fmt, log/slog and
// encoding/json, so a handler may log it or write it back to the client;
// [MarshalRecord] is the one encoding that keeps it, for stores.
package session
