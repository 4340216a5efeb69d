// Package session keeps the application's own login state after WeChat's
// code2session: an opaque token for the client, the session (openid,
// unionid, session_key) on the server, a check of the token on every
// request, and expiry.
//
// The mini-program posts the code from wx.login to [LoginHandler], which
// exchanges it with WeChat and answers with a token; later requests carry
// the token, and [Manager.Middleware] checks it and hands the handler the
// user's [Record]:
//
//	sessions := session.NewManager(nil) // in memory; session/redisstore for a fleet
//	mux.Handle("POST /api/login", session.LoginHandler(app, sessions)) // {code} -> {token, expiresIn, openid}
//	mux.Handle("GET /api/me", sessions.Middleware(me))                 // Authorization: Bearer <token>
//
// A complete server is under "Wiring a login" below.
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
//	hook := session.WithOnLogin(users.OnLogin) // your users table: see OnLoginFunc
//
//	mux := http.NewServeMux()
//	mux.Handle("POST /api/login", session.LoginHandler(app, sessions, hook))
//	mux.Handle("POST /api/phone", session.PhoneHandler(app, sessions, hook))
//	mux.Handle("POST /api/logout", session.LogoutHandler(sessions))
//	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(me)))
//
//	func me(w http.ResponseWriter, r *http.Request) {
//		rec, _ := session.FromContext(r.Context()) // always there behind the middleware
//		fmt.Fprintf(w, "hello %s (user %q)", rec.OpenID, rec.Subject)
//	}
//
// The login of a mini-program today has two steps. A silent wx.login gives a
// code; the mini-program posts {"code": "..."} to /api/login and gets a token
// for the openid, which it sends as "Authorization: Bearer <token>". When
// the app needs to know who the person is, the phone-number button gives a
// phone code, posted as {"phoneCode": "..."} with the token to /api/phone
// ([PhoneHandler]: a new token comes back), or together with a fresh login
// code in one {"code", "phoneCode"} to /api/login. WeChat bills each
// successful press of the phone button and its code works once, so a wasted
// code costs another billed press: the handlers spend it only when
// everything else about the login has checked out, bound to the session's
// openid.
//
// The [WithOnLogin] hook maps the WeChat user (and phone) to the
// application's own and sets its id, [LoginInfo.Subject], which the token's
// [Record.Subject] carries; a session without a subject (an openid not bound
// to a user yet) is a real state, and the hook can say so to the client
// ({"registered": false}) or refuse the login. [LoginHandler] lists every
// answer and its status.
//
// rawData, signature, encryptedData and iv from wx.getUserProfile may be
// sent with the code too. Since 2022 they carry an anonymous profile, and
// encryptedData has no openId: it is a profile, never an identity, and its
// decrypted fields are not authenticated (CBC lets the client choose the
// first block); the signed rawData is.
//
// Frameworks other than net/http call [Manager.Authenticate] (what the
// middleware decides, without answering), [WeChatError] (the answer to a
// WeChat error) and [Manager.RevokeRequest].
//
// # Tokens and expiry
//
// A token is valid for [DefaultTTL] (24 h; [WithTTL]) from its issue; the
// mini-program calls wx.login again (silently) when its token is refused.
// With [WithIdleTimeout] sessions slide: a token unused for the idle timeout
// ends, and each use extends it, never past its TTL (the absolute
// lifetime), for at most one store write per token per tenth of the idle
// timeout. [Manager.Validate] tells a token that expired ([ErrExpired])
// from one that is unknown or malformed ([ErrInvalidToken]); a store keeps
// an expired record ten more minutes so that the difference can be seen.
// [Manager.Revoke] ends a login (logout).
//
// # Users: registered, refused, audited
//
// [Manager.RequireSubject] lets only sessions bound to a user through (403
// not_registered for the others). [WithRecordCheck] asks the application
// about the user on every Validate (a ban: 403 login_refused; its database
// down: 503, and the token is kept); package github.com/wxmp/miniauth/account
// wires one rule for login and every request. [WithAfterIssue] sees the
// Record of each token issued, for an audit line.
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
// The login path has more dependencies than the session store: the account
// database, and whatever the [WithOnLogin] hook calls. They share the
// store's guard: a hook reports an outage with an [*UnavailableError]
// (package account's OnLogin does), or the application registers a
// dependency with [WithDependency]; the hook runs under
// [WithDependencyTimeout]; while a dependency is known to be down,
// [LoginHandler] and [PhoneHandler] answer 503 store_unavailable before
// they spend a code, a background probe brings it back, and the outage is
// one Error and one Warn line. A login that failed after WeChat took its
// codes answers 503 code_spent. A phone bind takes its token out of the
// store first ([TakeStore]), so one token makes one bind, and
// [Manager.RevokeAll] also ends the sessions a user's openids held before
// the bind.
//
// # HTTP answers
//
// [Manager.Middleware], [LoginHandler], [PhoneHandler] and [LogoutHandler]
// answer refused requests with a status and a JSON body {"error": "<machine code>", "message": "<text>"};
// the codes are the Code* constants. The message is fixed for each code: it
// never repeats WeChat's or the store's error text. [WithErrorHandler]
// replaces how these answers are written. Every answer carries
// Cache-Control: no-store.
//
// # Cookies
//
// With [WithTokenCookie] the token travels in a cookie that the handlers set
// (HttpOnly, Secure, SameSite=Lax) and clear, and requests with unsafe
// methods that browsers send from other origins are refused
// ([http.CrossOriginProtection]), since a browser attaches the cookie to
// requests any site makes.
//
// # Secrets
//
// Tokens, codes and session_keys never appear in a log line or an error
// string. A [Record] leaves its SessionKey out of fmt, log/slog and
// encoding/json, so a handler may log it or write it back to the client;
// [MarshalRecord] is the one encoding that keeps it, for stores.
//
// # Surface
//
// The package exports about 166 names (types, functions, constants,
// variables, methods and fields; alexedwards/scs exports 76). Most of them
// are not on the path of a login endpoint, which needs [NewManager],
// [LoginHandler], [PhoneHandler], [WithOnLogin] and [Manager.Middleware]:
// about 40 are the machine codes of the JSON answers (Code*), which clients
// branch on and so are named once here; about 30 are the optional store
// interfaces and helpers that store authors use ([SubjectStore],
// [TakeStore], [RenewStore], [MarshalRecord], ...), checked by package
// session/storetest; the rest are options, each validated at construction.
package session
