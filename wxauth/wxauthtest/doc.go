// Package wxauthtest is a fake WeChat API server for tests, in the style of
// net/http/httptest: code that logs mini-program users in can be tested end
// to end, without the internet and without mocking HTTP by hand.
//
// A test of a login endpoint starts the fake, points the app at it, and
// posts a code the fake made, as the mini-program would:
//
//	wechat := wxauthtest.NewServer(appID, secret)
//	defer wechat.Close()
//	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL))
//	...
//	api := httptest.NewServer(session.LoginHandler(app, session.NewManager(nil)))
//	defer api.Close()
//	body := `{"code":"` + wechat.Login("o-alice") + `"}` // what wx.login hands the mini-program
//	resp, err := api.Client().Post(api.URL, "application/json", strings.NewReader(body))
//
// [NewServer] starts the fake on a local port. Point a wxauth client at
// [Server.URL] with wxauth.WithBaseURL, play the mini-program's part with
// [Server.Login] (wx.login), [Server.Profile] (wx.getUserProfile) and
// [Server.PhoneCode] (the phone-number button), and let the code under test
// call the server as it would call WeChat:
//
//	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret")
//	defer srv.Close()
//	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
//	...
//	code := srv.Login("o-alice")            // what wx.login hands the mini-program
//	sess, err := app.Code2Session(ctx, code) // what the server under test does
//
// # What it models
//
// The endpoints use WeChat's paths, field names and error codes, and reply
// with JSON served as text/plain, as WeChat does. A WeChat error is HTTP 200
// with {"errcode":N,"errmsg":"... rid: ..."}. Unknown paths are 404.
//
//   - GET /sns/jscode2session (appid, secret, js_code, grant_type=authorization_code):
//     {openid, session_key, unionid?}. A code is valid for 5 minutes and once:
//     unknown or expired 40029, already exchanged 40163, a [User] with Blocked
//     set 40226, more than 100 calls (see [WithRateLimit]) in a sliding minute
//     for one user 45011. Wrong appid 40013, wrong secret 40125, missing
//     appid/secret/js_code 41002/41004/41008, grant_type other than
//     authorization_code 40002. A refused call does not use up its code.
//   - GET /cgi-bin/token (grant_type=client_credential, appid, secret):
//     {access_token, expires_in: 7200}. Every call issues a new token; the
//     one before it stays valid for 5 more minutes, older ones are invalid.
//   - POST /cgi-bin/stable_token, JSON {grant_type, appid, secret, force_refresh}:
//     normal mode returns the same stable token, with the seconds it has left,
//     until the last 5 minutes of its life ([StableTokenRenewal]); a call then
//     gets a new token (expires_in 7200), and the old one stays valid until
//     its own expiry. force_refresh replaces the token at once and invalidates
//     the old ones; under 30 s after the last forced refresh it returns the
//     current token unchanged, and the 21st of a Beijing day is 45009. Stable
//     and plain tokens are separate, as at WeChat, and both are accepted by
//     the APIs below.
//   - POST /wxa/business/getuserphonenumber?access_token=, JSON {code, openid?}:
//     {errcode: 0, errmsg: "ok", phone_info: {phoneNumber, purePhoneNumber,
//     countryCode, watermark: {timestamp, appid}}}. A phone code from
//     [Server.PhoneCode] is valid for 5 minutes and once; otherwise 40029. An
//     openid that is not the code's user is 40003.
//   - GET /wxa/checksession?access_token, openid, signature, sig_method=hmac_sha256:
//     {errcode: 0, errmsg: "ok"}, or 87009 when signature is not
//     hex(hmac_sha256(session_key, "")) for the user's current session_key.
//   - GET /wxa/resetusersessionkey (same parameters): a new session_key,
//     {errcode: 0, errmsg: "ok", openid, session_key}, which keeps the old
//     key's expiry; the old one is invalid. A signature of an expired key, or
//     of the key the current one replaced, is 87007.
//   - POST /wxa/business/checkencryptedmsg?access_token=, JSON {encrypted_msg_hash}:
//     {errcode: 0, errmsg: "ok", vaild: true, create_time} (WeChat's spelling)
//     when the hash is the hex SHA-256 of an encryptedData the server handed
//     out ([Server.Profile], [Server.UserInfo]) less than [EncryptedDataTTL]
//     (3 days, by the server's clock) ago; otherwise errcode 1, "data not
//     exit", as WeChat answers. A hash that is not 64 hex digits is 40097.
//     WeChat's page says it records only phone-number encryptedData; the
//     fake vouches for the profiles it makes, the only encryptedData it makes.
//
// On the APIs that take an access_token, a missing one is 41001, an unknown
// or replaced one 40001, an expired one 42001. A GET endpoint called with
// another method is 43001, a POST endpoint 43002; a body that is not JSON is
// 47001, an empty one 44002, one over 1 MiB HTTP 413. An unknown openid is
// 40003, sig_method other than hmac_sha256 87008.
//
// Each [Server.Login] rotates the user's session_key, as wx.login does: data
// encrypted under the old key no longer decrypts with the new one, and
// checksession with the old key is 87009. Session keys do not expire by time
// unless [WithSessionKeyTTL] is set or [Server.ExpireSessionKey] is called;
// an expired key is 87009 on checksession.
//
// # API security mode
//
// [WithAPISecurity] runs WeChat's API security mode (服务端 API 签名加密) on
// the APIs whose pages say they support it, getuserphonenumber and
// checkencryptedmsg: requests must come AES-256-GCM encrypted and RSA-PSS
// signed, and replies come encrypted and signed with a platform certificate.
// [Server.APISecurity] hands out the client's keys (for
// wxauth.WithAPISecurity), [Server.RotatePlatformCertificate] rotates the
// certificate as WeChat does, with the deprecated signature beside the new.
//
// # A third-party platform
//
// [NewComponentServer] is WeChat as a third-party platform (component)
// sees it. It pushes what WeChat pushes to the component's authorization
// event URL, signed (msg_signature) and encrypted with the platform's
// Token and EncodingAESKey: [ComponentServer.PushTicket] a new
// component_verify_ticket (valid for [TicketTTL]), [ComponentServer.PushEvent]
// an authorized, updateauthorized or unauthorized event. Each mini-program
// that authorized the component ([ComponentServer.Authorize], or an
// authorized event) has a [Server] of its own ([ComponentServer.App]) for
// its users, codes and phone codes; it does not listen, its APIs are
// reached through the component's:
//
//   - POST /cgi-bin/component/api_component_token, JSON {component_appid,
//     component_appsecret, component_verify_ticket}: {component_access_token,
//     expires_in: 7200}, a new token each call, the previous one valid 5
//     more minutes. A ticket never pushed is 61006, one older than 12 hours
//     61005; another component_appid 61011, a wrong secret 40125.
//   - GET /sns/component/jscode2session (appid, js_code,
//     grant_type=authorization_code, component_appid,
//     component_access_token): the app's jscode2session; an app that has
//     not authorized the component, or withdrew, is 61003.
//   - POST /cgi-bin/component/api_authorizer_token?component_access_token=,
//     JSON {component_appid, authorizer_appid, authorizer_refresh_token}:
//     {authorizer_access_token, expires_in, authorizer_refresh_token}, a new
//     token each call; a wrong refresh token is 61023.
//   - POST /cgi-bin/component/api_query_auth?component_access_token=, JSON
//     {component_appid, authorization_code}: {authorization_info:
//     {authorizer_appid, authorizer_access_token, expires_in,
//     authorizer_refresh_token, func_info}}; the code of an authorized event
//     works once, for [AuthorizationCodeTTL] (61009 unknown or used, 61010
//     expired: codes other SDKs give, not WeChat's page).
//   - POST /wxa/business/getuserphonenumber?access_token= with an
//     authorizer_access_token: the phone number of a user of that app.
//
// [SealPush] and [PostPush] make and send a push of a test's own (another
// appid, a tampered signature), for tests of a push handler's refusals.
//
// # Tests of failures
//
// [Server.FailNext] and [Server.FailNextStatus] make the next request to an
// endpoint fail with a WeChat errcode or an HTTP status, with no other effect
// (a code is not used up). [WithErrMsg] gives the injected reply WeChat's
// real text, [WithErrCodeString] sends its errcode as a JSON string. [WithLatency] delays every reply; [WithClock]
// drives code, token and rate-limit expiry from a test clock.
// [Server.Calls] counts the requests each endpoint received.
//
// # Trust
//
// Requests over HTTP are treated as untrusted: bodies are capped at 1 MiB,
// the app secret and signatures are compared in constant time, the server
// keeps a bounded amount of state per user and per app, and it never logs.
// The Go methods ([Server.AddUser], [Server.Login], ...) are the test's own
// set-up and take what they are given: openids and profiles are not
// validated.
//
// A Server is safe for concurrent use by any number of goroutines and
// parallel tests; it has no global state.
package wxauthtest
