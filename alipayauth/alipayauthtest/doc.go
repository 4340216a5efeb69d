// Package alipayauthtest is a fake Alipay open-platform gateway for tests,
// in the style of net/http/httptest: code that logs Alipay mini-program
// users in can be tested end to end, offline.
//
//	gateway := alipayauthtest.NewServer(appID)
//	defer gateway.Close()
//	app, err := alipayauth.New(appID, gateway.AppPrivateKey(), gateway.AlipayPublicKey(),
//		alipayauth.WithBaseURL(gateway.URL), alipayauth.WithAESKey(gateway.AESKey()))
//	...
//	code := gateway.AuthCode("")           // what my.getAuthCode hands the mini-program
//	sess, err := app.Code2Session(ctx, code)
//
// # What it models
//
// The server makes two RSA-2048 key pairs when it starts: the app's
// ([Server.AppPrivateKey], or the app public key given with
// [WithAppPublicKey]) and Alipay's ([Server.AlipayPublicKey]), and an AES
// key ([Server.AESKey]).
//
//   - POST /gateway.do, form body (common parameters also read from the
//     query, as SDKs send them): app_id, method, format, charset (utf-8),
//     sign_type (RSA2), timestamp (yyyy-MM-dd HH:mm:ss), version, sign.
//     The sign is verified with the app's public key over every other
//     non-empty parameter, sorted, as k=v joined by "&". Missing parameters
//     are 40001 (isv.missing-method, -app-id, -signature, -signature-type,
//     -timestamp, -version); a wrong app_id 40002 isv.invalid-app-id (unsigned:
//     the gateway does not know the app), a sign_type other than RSA2
//     isv.invalid-signature-type, a bad timestamp isv.invalid-timestamp,
//     another charset isv.invalid-charset, a bad sign isv.invalid-signature,
//     an unknown method isv.invalid-method.
//   - method alipay.system.oauth.token, grant_type=authorization_code,
//     code: {"alipay_system_oauth_token_response":{user_id?, open_id?,
//     union_id?, access_token, expires_in, refresh_token, re_expires_in,
//     auth_start}, "sign"}, the sign over the node's text with Alipay's key.
//     An authCode from [Server.AuthCode] works once, for [CodeTTL]; any other
//     is 40002 isv.code-invalid. A grant_type other than
//     authorization_code is 40002 isv.grant-type-invalid (the fake's own
//     sub_code: the real one was not found documented).
//   - Errors are {"error_response":{code, msg, sub_code, sub_msg},"sign"},
//     HTTP 200. Any other path is 404, any other HTTP method 405.
//
// [Server.PhoneResponse] plays my.getPhoneNumber: the JSON string of
// {response, sign, sign_type, encrypt_type, charset} whose response is the
// number encrypted with the AES key (AES-CBC, zero IV, PKCS#5) and whose
// sign is over the response in double quotes. [Server.PhoneRefusal] and
// [Server.PhoneResponseOf] make refusals and unusual contents; [Server.Sign]
// signs what a test hand-crafts.
//
// [Server.FailNext] injects an error_response by sub_code (isp.unknow-error
// is the one clients retry), [Server.FailNextStatus] an HTTP status, each
// with no other effect; [Server.Calls] counts requests per method;
// [WithClock] drives code expiry.
//
// A Server is safe for concurrent use and has no global state.
package alipayauthtest
