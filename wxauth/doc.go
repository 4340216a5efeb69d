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
// session_key still valid), [App.ResetSessionKey] and [App.CheckEncryptedData]
// (did WeChat produce this encryptedData). [App.AccessToken] returns the
// token for APIs this package does not wrap; [XPayUserSignature] and
// [XPayPaySignature] sign the virtual-payment calls among them. With the
// console's API security mode on, [WithAPISecurity] encrypts and signs the
// calls that support it and verifies their replies.
//
// The token comes from POST /cgi-bin/stable_token in normal mode, which
// hands every caller the same token, counting its expires_in down, until
// the last five minutes of its life; a call then gets the next token, and
// the old one stays valid until it expires
// (https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html).
// [WithClassicToken] selects GET /cgi-bin/token, [WithTokenSource] a central
// token service of your own, [StaticTokenSource] a fixed token for tests.
//
// When to refresh, stated once: the token is kept in memory (a cached token
// costs no request, no lock and no allocation) and replaced a fifth of its
// lifetime before it expires, at most 4 min 50 s before: inside
// stable_token's five-minute window, so that one request per token
// lifetime brings the next token, in the background while the old one
// still serves. When there is no valid token, concurrent callers wait for
// one single request. A reply with expires_in 0 or a few seconds (a token in
// its last second, a server that does not renew early) is not an error: the
// callers waiting get that token, a longer-lived token already held keeps
// serving, and a refresh that brings back a token that is already due is
// tried again only after half the time it has left (at least 10 s), not at
// every call. A fleet shares one token through a [TokenStore]
// ([WithTokenStore]; package wxauth/redistoken for Redis): one instance
// refreshes under the store's lock while the others read.
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
//
// # Third-party platform (component)
//
// An agency on WeChat's Open Platform (第三方平台) logs in the users of every
// mini-program that authorized it, with no secret of theirs: [NewComponent]
// takes the platform's appid, appsecret, message-check Token and
// EncodingAESKey, and is a [miniauth.Apps] of the authorizers:
//
//	comp, err := wxauth.NewComponent(appID, secret, token, encodingAESKey,
//		wxauth.WithTokenStore(store),        // the fleet shares tickets and tokens
//		wxauth.WithRefreshTokens(refresh),   // authorizer_refresh_tokens, from your database
//		wxauth.WithComponentEvents(onEvent)) // authorized, unauthorized, ...
//	mux.Handle("POST /wechat/component", comp.TicketHandler()) // the authorization event URL
//	mux.Handle("POST /api/login", session.LoginHandler(comp, sessions)) // the body's appid picks the app
//
// WeChat pushes a component_verify_ticket to [Component.TicketHandler]
// every ten minutes; the handler checks its msg_signature, decrypts it,
// checks that it is for this component, and keeps it in the [TokenStore]
// for the 12 hours it is valid, so that a stalled push does not stop
// logins and every instance of a fleet can use it. The component_access_token
// is minted from it once per token lifetime for the whole fleet, as the
// access token is. [Component.App] gives an [AuthorizerApp], whose
// Code2Session calls /sns/component/jscode2session; its GetPhoneNumber
// uses the mini-program's authorizer_access_token, minted from the refresh
// token a [RefreshTokenStore] supplies ([Component.QueryAuth] turns an
// authorization event's code into one). Errcodes of the third-party
// platform match these sentinels besides the table below:
//
//	61003    ErrUnknownApp         The mini-program has not authorized the
//	                               component, or withdrew [400 unknown_app].
//	61004    ErrNotAllowed         The server's IP is not in the platform's
//	                               whitelist [500 server_error].
//	61005, 61006
//	         ErrNoTicket           The ticket expired or is invalid; also no
//	                               ticket pushed in 12 hours, before any request.
//	                               Wait for the next push (every ten minutes)
//	                               [502 wechat_unavailable].
//	61011, 61023
//	         ErrInvalidCredential  The component's appid is wrong (61011), or an
//	                               authorizer's refresh token is (61023)
//	                               [500 server_error].
//
// # WeChat's errcodes
//
// WeChat answers errors with HTTP 200 and {"errcode": N, "errmsg": "... rid:
// ..."}; the errcode may come as a number or a numeric string. Every
// [*APIError] keeps the errmsg (Msg, cleaned of control characters and of
// any secret the request carried) and the request id (RID) that WeChat's
// support asks for; for 40164 the errmsg names the server's IP to
// whitelist. The codes are WeChat's global ones
// (https://developers.weixin.qq.com/doc/oplatform/developers/errCode/errCode.html),
// those of each API's page, and those of the API security mode
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/getting_started/api_signature.html).
// What each means, what it matches, and what to do (the answer of
// session.LoginHandler, which maps them with session.WeChatError, in
// brackets):
//
//	-1       ErrSystemBusy         WeChat is busy. Retried here (WithRetry) before
//	                               it reaches the caller; then try again later
//	                               [502 wechat_unavailable].
//	40029    ErrInvalidCode        The login code is unknown or expired: the client
//	                               calls wx.login again [401 invalid_code].
//	40163    ErrCodeUsed           The login code was already exchanged: wx.login
//	                               again [401 code_used].
//	45011    ErrRateLimited        Too many calls in a minute (per user on
//	                               jscode2session): slow down [429 rate_limited].
//	40226    ErrHighRisk           WeChat blocks this user as high risk: refuse the
//	                               login [403 high_risk].
//	40001, 40014, 42001
//	         ErrInvalidCredential  The access_token is invalid, replaced or
//	                               expired. An API call refused so drops the token
//	                               and is retried once with a new one; on a token
//	                               fetch 40001 means a wrong secret [500 server_error].
//	40013, 40125, 41002
//	         ErrInvalidCredential  Wrong or missing appid, wrong secret: the server
//	                               is misconfigured [500 server_error].
//	87009    ErrSessionKeyExpired  checksession: the session_key's signature does
//	                               not match, because the key rotated (a new
//	                               wx.login, a reset) or expired: log the user in
//	                               again.
//	87007    ErrSessionKeyExpired  resetusersessionkey: the session_key expired or
//	                               was replaced: log the user in again.
//	40164, 40243, 41004, 48001, 50004, 50007, 89503, 89506, 89507
//	         ErrNotAllowed         WeChat refuses this app or this server for a
//	                               reason an operator must fix, and retrying does
//	                               not help: the server's IP is not whitelisted
//	                               (40164), the AppSecret is frozen (40243) or
//	                               missing (41004), the API is not authorized for
//	                               the app (48001), forbidden or the account frozen
//	                               (50004, 50007), an administrator must confirm
//	                               the call or refused it (89503, 89506, 89507).
//	                               Alert an operator with Msg [500 server_error,
//	                               logged at Error].
//	45009    ErrQuotaExceeded      The app's daily quota of this API is spent (also
//	                               stable_token's force_refresh after 20 a day): it
//	                               resets at midnight, Beijing time, or by an
//	                               operator's clear_quota; not the user's fault
//	                               [503 quota_exceeded, logged at Error].
//	40029, 40163, 40013, 40003 on getuserphonenumber
//	         ErrInvalidPhoneCode   The phone-number button's code is unknown,
//	                               expired or used, made for another appid, or not
//	                               the code of the openid sent with ForOpenID: the
//	                               user presses the button again; never matches
//	                               ErrInvalidCode [400 invalid_phone_code].
//	40097    ErrRequestRejected    Invalid arguments: WeChat could not use the
//	                               request. A bug to report with Msg and RID; no
//	                               retry helps [500 server_error].
//	40230-40237, 40240, 934011
//	         ErrRequestRejected    API security mode (服务端API签名): a Wechatmp-*
//	                               header missing or invalid, an invalid
//	                               signature (40234), invalid encryption (40235),
//	                               a stale timestamp (40240), or a request without
//	                               the encrypted body the mode expects (934011):
//	                               the console (开发管理 - 开发设置 - API安全)
//	                               demands the mode; give WithAPISecurity the
//	                               console's keys. Msg says which [500 server_error].
//	40238, 40239
//	         ErrNotAllowed         API security mode: the console has no
//	                               symmetric key (40238) or public key (40239) set
//	                               [500 server_error].
//
// Any other errcode is an [*APIError] that matches no sentinel; read Code
// and Msg with [errors.As].
//
// # Surface
//
// The package exports about 144 names (golang.org/x/oauth2's root exports
// 72): one client of one mini-program ([New], [App]: about 60 with its
// options, errors and reply types), the third-party platform ([Component],
// [AuthorizerApp] and their options and events: about 50), and the API
// security mode, virtual-payment signatures and token types (aliases of the
// root package's). A login needs [New] alone; the component and the
// security mode are opt-in, and each stays in its own files.
package wxauth
