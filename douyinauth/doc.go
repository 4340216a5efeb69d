// Package douyinauth logs Douyin (抖音/头条/字节跳动) mini-app users in: the
// code of tt.login exchanged for the user's session, the rawData signature
// and the AES decryption of user data (as WeChat's), and the phone number
// of the phone-number button's code, which Douyin encrypts with the app's
// RSA public key. Its [*App] is a [miniauth.Client], so package session's
// handlers serve Douyin as they serve WeChat.
//
//	app, err := douyinauth.New("tt0123456789abcdef", secret,
//		douyinauth.WithPrivateKey(privateKeyPEM)) // for phone numbers only
//	...
//	sess, err := app.Code2Session(ctx, code) // code: what tt.login gave the mini-app
//	phone, err := app.GetPhoneNumber(ctx, phoneCode)
//
// Tests run offline against package douyinauthtest, a fake of the APIs
// below: point the App at it with [WithBaseURL].
//
// # The APIs
//
//   - POST developer.toutiao.com/api/apps/v2/jscode2session, JSON {appid,
//     secret, code, anonymous_code}: {err_no, err_tips, log_id, data:
//     {session_key, openid, anonymous_openid, unionid}}
//     (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/basic-abilities/log-in/code-2-session).
//   - POST open.douyin.com/oauth/client_token/ (or stable_client_token/),
//     JSON {client_key, client_secret, grant_type}: {data: {access_token,
//     expires_in, error_code, description}, message}
//     (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-client_token).
//   - POST open.douyin.com/api/apps/v1/get_phonenumber_info/, header
//     access-token: the client_token, JSON {code}: {err_no, err_msg,
//     log_id, data: base64 RSA ciphertext}. The flow and the RSA are
//     Douyin's word
//     (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/tutorial/open-capabilities/general-capabilities/new-phone-method);
//     the path, header, body and PKCS#1 v1.5 padding are as public SDKs
//     implement them.
//
// Each host answers in its own envelope: {err_no, err_tips},
// {err_no, err_msg, log_id} and {data: {error_code, description},
// message}. Every one of them becomes an [*APIError] with the API's name
// (Op), the code and the message.
//
// # Anonymous users
//
// tt.login hands out an anonymousCode even to a user not logged in to the
// host app. Its anonymous_openid has no session_key and no unionid: it
// names a device's anonymous user, not a person. So [App.Code2Session] (the
// [miniauth.Client] method every login handler calls) sends the code alone,
// and its Session.OpenID is always the real openid; [App.AnonymousOpenID]
// exchanges an anonymousCode on its own, and [App.Code2SessionAnonymous]
// both codes at once, returning the anonymous_openid beside the session, so
// that an app can move what the anonymous user did to the account.
//
// # Phone numbers
//
// The phone-number button (base library 3.51.0 and later) hands the
// mini-app a code, valid for 5 minutes and once. [App.GetPhoneNumber] sends
// it with the client_token, which the App fetches and caches (renewed a
// fifth of its life before expiry, at most 4 min 50 s before: a new
// client_token shortens the previous one to 5 minutes and only the two
// newest live), and decrypts Douyin's reply with the private key of
// [WithPrivateKey]: the pair of the 应用公钥 registered in the console
// (控制台 > 小程序 > 开发 > 开发配置). Without the key GetPhoneNumber fails
// with [ErrNoPrivateKey] before spending the code. Instances of a fleet
// that each fetch client_tokens knock out each other's tokens past two; use
// [WithStableClientToken] there.
//
// # Error codes
//
// What each code matches with errors.Is. jscode2session's numbering is the
// v1 page's (the v2 page names the envelope but lists no codes); the
// open.douyin.com codes are the platform's status codes
// (https://developer.open-douyin.com/docs/resource/zh-cn/dop/develop/openapi/status-code).
//
//	API                    code      meaning                         sentinel
//	jscode2session         -1        system error (retried)          ErrSystemBusy
//	jscode2session         40015     bad appid                       ErrInvalidCredential
//	jscode2session         40017     bad secret                      ErrInvalidCredential
//	jscode2session         40018     bad code (unknown/expired/used) ErrInvalidCode
//	jscode2session         40019     bad anonymous_code              ErrInvalidCode
//	jscode2session         40014     bad params                      (none)
//	client_token           10003     client_key unknown              ErrInvalidCredential
//	client_token           10013     client_key or secret wrong      ErrInvalidCredential
//	client_token           10020     over 500 calls in 5 minutes     ErrRateLimited
//	client_token           10002     bad params                      (none)
//	get_phonenumber_info   28005187  phone code expired or used (*)  ErrInvalidPhoneCode
//	get_phonenumber_info   28001007  bad parameter: the code         ErrInvalidPhoneCode
//	get_phonenumber_info   28001008  client_token expired (renewed,  ErrInvalidCredential
//	                                 the call made once more)
//	open.douyin.com        28001005  busy (retried)                  ErrSystemBusy
//	open.douyin.com        28001006  network error (retried)         ErrSystemBusy
//	open.douyin.com        28001014  app has no capability           ErrNotAllowed
//	open.douyin.com        28001016  app banned or offline           ErrNotAllowed
//	open.douyin.com        28001018  app lacks this capability       ErrNotAllowed
//	open.douyin.com        28001019  capability banned               ErrNotAllowed
//	open.douyin.com        28003017  quota spent                     ErrQuotaExceeded
//	open.douyin.com        28003018  request rate too high           ErrRateLimited
//
// (*) read in an SDK's documentation only. Douyin has no "code already
// used" apart from "bad code": a used code is [ErrInvalidCode], never
// [miniauth.ErrCodeUsed].
//
// # Secrets
//
// The app secret, the private key, session keys, codes, tokens and phone
// numbers never appear in an error, a log line ([WithLogger]) or the %v of
// an [App].
package douyinauth
