// Package wxauth is a client for WeChat's mini-program login APIs.
//
// A login endpoint needs an [*App] for the mini-program (appid and secret,
// from [New]) and, for the rest of the login, package session:
//
//	app, err := wxauth.New(os.Getenv("WX_APPID"), os.Getenv("WX_SECRET"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	sessions := session.NewManager(nil)
//	mux.Handle("POST /api/login", session.LoginHandler(app, sessions)) // {code} -> {token, expiresIn, openid}
//
// Step by step, the calls of a login are:
//
//	sess, err := app.Code2Session(ctx, code)                        // wx.login's code: openid, unionid, session_key
//	err = app.VerifySignature(sess.SessionKey, rawData, signature)  // wx.getUserProfile's rawData
//	err = app.Decrypt(sess.SessionKey, encryptedData, iv, &profile) // checks the watermark's appid
//	phone, err := app.GetPhoneNumber(ctx, phoneCode, wxauth.ForOpenID(sess.OpenID)) // the phone-number button
//
// and the server keeps sess.SessionKey to itself. [App.Code2Session] turns the code
// into a [Session]; [App.VerifySignature] checks the rawData signature;
// [App.Decrypt] decrypts encryptedData and checks that its watermark names
// this app. Code that depends on these three should take the [Client]
// interface, so its tests can hand in a fake.
//
// # Access token
//
// WeChat's newer APIs take an access_token: [App.GetPhoneNumber] (phone
// number from the button's code), [App.CheckSessionKey] (is a stored
// session_key still valid) and [App.ResetSessionKey]. [App.AccessToken]
// returns the token for APIs this package does not wrap.
//
// The token comes from POST /cgi-bin/stable_token in normal mode, which
// hands every caller the same token; [WithClassicToken] selects GET
// /cgi-bin/token, [WithTokenSource] a central token service of your own,
// [StaticTokenSource] a fixed token for tests. It is kept in memory (a cached
// token costs no request, no lock and no allocation) and replaced a fifth of
// its lifetime, at most five minutes, before it expires, in the background
// while the old one still serves. When there is no valid token, concurrent
// callers wait for one single request. A fleet shares one token through a
// [TokenStore] ([WithTokenStore]; package wxauth/redistoken for Redis): one
// instance refreshes under the store's lock while the others read.
//
// A call refused with errcode 40001, 40014 or 42001 drops the token it used,
// and only that one (a newer token fetched meanwhile stays), from memory and
// from the store, and is retried once with a new token; if the new token is
// the refused one, the refusal is returned. force_refresh is never sent:
// WeChat allows it 20 times a day, 30 s apart, and it knocks out the token
// every other caller holds; it is meant for a leaked token, which is an
// operator's decision.
//
// Defaults are meant for production: a 5 s timeout per request, two retries
// (with exponential backoff and jitter, never past the context's deadline) of
// errcode -1, HTTP 5xx and failed connections, reply bodies capped at 1 MiB,
// no redirects followed.
//
// Secrets stay secret. WeChat takes the app secret, the code and the
// access_token in the query string; every URL that reaches an error is
// redacted, nothing is logged with a query string, [Session] prints its
// session_key as REDACTED under fmt and leaves it out under log/slog and
// encoding/json, [Token] does the same with its access token, and [App]
// shows only its appid.
//
// Errors are typed: a WeChat errcode is an [*APIError], and the codes callers
// branch on are sentinels ([ErrInvalidCode], [ErrCodeUsed], [ErrRateLimited],
// ...) matched with [errors.Is]. A failed request wraps its cause, so
// errors.Is(err, context.DeadlineExceeded) holds after a timeout.
package wxauth
