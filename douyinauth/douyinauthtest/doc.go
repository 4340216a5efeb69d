// Package douyinauthtest is a fake of Douyin's mini-app server APIs for
// tests, in the style of net/http/httptest: code that logs Douyin users in
// (package douyinauth) can be tested end to end, offline.
//
//	dy := douyinauthtest.NewServer(appID, secret)
//	defer dy.Close()
//	app, err := douyinauth.New(appID, secret,
//		douyinauth.WithBaseURL(dy.URL), douyinauth.WithPrivateKey(dy.PrivateKey()))
//	...
//	code := dy.Login("")                     // what tt.login hands the mini-app
//	sess, err := app.Code2Session(ctx, code) // what the server under test does
//
// # What it models
//
// One server serves the paths of both of Douyin's hosts. Every endpoint is
// a POST of JSON and answers HTTP 200 with JSON, errors included, each in
// its host's envelope. Unknown paths are 404, another method 405.
//
//   - POST /api/apps/v2/jscode2session, {appid, secret, code, anonymous_code}:
//     {err_no: 0, err_tips: "success", log_id, data: {session_key, openid,
//     anonymous_openid, unionid, dopenid}}. A code from [Server.Login] or
//     [Server.AnonymousCode] is valid for 5 minutes and once: bad, expired
//     or used 40018 (anonymous_code: 40019). Wrong appid 40015, wrong
//     secret 40017, neither code nor anonymous_code (or a body that is not
//     JSON) 40014. A refused call uses up no code. Errors are {err_no,
//     err_tips, log_id, data: null}.
//   - POST /oauth/client_token/, {client_key, client_secret, grant_type:
//     "client_credential"}: {data: {access_token: "clt....", expires_in:
//     7200, error_code: 0, description: ""}, message: "success", extra:
//     {logid, now}}. Every call issues a new token; the one before it stays
//     valid for 5 more minutes, older ones are invalid. Unknown client_key
//     10003, wrong secret 10013, missing fields 10002, as {data:
//     {error_code, description, captcha, desc_url}, message: "error"}.
//   - POST /oauth/stable_client_token/: as client_token, but the same token,
//     with the seconds it has left, until it expires.
//   - POST /api/apps/v1/get_phonenumber_info/, header access-token, {code}:
//     {err_no: 0, err_msg: "", log_id, data}, data the base64 of
//     {phoneNumber, purePhoneNumber, countryCode, watermark: {appid,
//     timestamp}} encrypted with the app public key (RSA, PKCS#1 v1.5). A
//     code from [Server.PhoneCode] is valid for 5 minutes and once: expired
//     or used 28005187, unknown 28001007; a missing token 28001007, an
//     unknown or expired one 28001008. Errors are {err_no, err_msg, log_id,
//     data: ""}.
//
// The server makes its own RSA key pair on first use; [Server.PrivateKey]
// gives its private half for douyinauth.WithPrivateKey. [WithAppPublicKey]
// makes it encrypt with a key of the test's own instead.
//
// # Tests of failures
//
// [Server.FailNext] makes the next request to an endpoint fail with a
// Douyin code in that endpoint's envelope, [Server.FailNextStatus] with an
// HTTP status; neither uses up a code. [WithLatency] delays every reply,
// [WithClock] drives code and token expiry from a [Clock], and
// [Server.Calls] counts the requests each endpoint received.
//
// What rests on public SDKs rather than Douyin's pages: the path, header and
// body of get_phonenumber_info, PKCS#1 v1.5, the watermark in the phone
// data, and the codes 28005187 and 28001007 for refused phone codes.
//
// A Server is safe for concurrent use and has no global state.
package douyinauthtest
