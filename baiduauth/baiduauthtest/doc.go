// Package baiduauthtest is a fake of Baidu's smart-program login API for
// tests, in the style of net/http/httptest: code that logs Baidu users in
// can be tested end to end, offline.
//
//	baidu := baiduauthtest.NewServer(appKey, secret)
//	defer baidu.Close()
//	app, err := baiduauth.New(appKey, secret, baiduauth.WithBaseURL(baidu.URL))
//	...
//	code := baidu.Login("")                 // what swan.login hands the smart program
//	sess, err := app.Code2Session(ctx, code)
//
// # What it models
//
//   - POST /oauth/jscode2sessionkey, a form of code, client_id (the AppKey)
//     and sk (the secret): {openid, session_key}, the session key 24 bytes
//     in base64. A missing parameter is {"errno":10010100,"error":"parameter
//     is invalid","error_description":"Key: 'Code2SessionKeyParam.ClientID'
//     ..."} as on Baidu's page; a wrong AppKey or secret
//     {"error":"invalid_client"}; a code that is unknown, older than
//     [CodeTTL] (10 minutes) or used {"error":"invalid_grant",
//     "error_description":"Invalid authorization code: <code>"} (Baidu's
//     OAuth text, the code echoed). Errors are HTTP 200 JSON. Another HTTP
//     method is 405, another path 404.
//
// [Server.Login] plays swan.login and rotates the user's session key.
// [Server.UserInfo], [Server.Phone] and [Server.Encrypt] make the encrypted
// data a smart program receives (AES-192-CBC, 16 random bytes, the
// big-endian length, the JSON, the AppKey; PKCS#7 over 32-byte blocks as
// Baidu's sample is padded). [Server.FailNext] injects an OAuth error code,
// [Server.FailNextStatus] an HTTP status, each with no other effect;
// [Server.Calls] counts requests; [WithClock] drives code expiry.
//
// Whether Baidu answers invalid_grant at HTTP 200 or 400 is not documented
// for this endpoint (its OAuth token endpoint uses 400); the fake answers
// 200, which the client reads.
//
// A Server is safe for concurrent use and has no global state.
package baiduauthtest
