// Package alipayauth logs Alipay (支付宝) mini-program users in: the
// authCode of my.getAuthCode exchanged with alipay.system.oauth.token on
// Alipay's gateway, and the phone number of my.getPhoneNumber verified and
// decrypted. Its [*App] is a [miniauth.Client] (and the [miniauth.Apps] of
// its one app), so package session's handlers serve Alipay as they serve
// WeChat.
//
// Alipay has no app secret on the wire and no session key. Every request
// is signed with the app's RSA2 private key (应用私钥) and every reply's
// sign is verified with Alipay's public key (支付宝公钥): [New] takes both, PEM
// or the bare base64 the console shows. The phone number comes encrypted
// with the app's AES key (接口内容加密方式), given with [WithAESKey]:
//
//	app, err := alipayauth.New(os.Getenv("ALIPAY_APPID"), os.Getenv("ALIPAY_APP_PRIVATE_KEY"),
//		os.Getenv("ALIPAY_PUBLIC_KEY"), alipayauth.WithAESKey(os.Getenv("ALIPAY_AES_KEY")))
//	if err != nil {
//		log.Fatal(err)
//	}
//	sess, err := app.Code2Session(ctx, authCode)     // my.getAuthCode({scopes: 'auth_base'})
//	phone, err := app.DecryptPhone(response)         // my.getPhoneNumber's res.response, as it is
//
// Session.OpenID is the reply's open_id (new apps) or, for an app of the
// user_id era, its user_id (2088...); see [App.Code2Session]. SessionKey is
// always empty, so Alipay users have no Decrypt or VerifySignature: the
// only encrypted data is the phone response, which [App.DecryptPhone]
// handles without a request.
//
// # Errors
//
// The gateway answers an error with {"error_response":{code, msg,
// sub_code, sub_msg}, "sign"}, HTTP 200. An [*APIError] keeps all four and
// matches the shared sentinels of package miniauth by this table (the
// gateway's common codes, https://open.alitrip.com/docs/doc.htm?articleId=105806&docType=1&treeId=262,
// a mirror of Alipay's 公共错误码; isv.code-invalid as developers report it
// and Alipay's SDKs handle it):
//
//	code   sub_code                        matches               what to do
//	40002  isv.code-invalid                ErrInvalidCode        the client calls my.getAuthCode again
//	40002  isv.invalid-signature           ErrInvalidCredential  wrong app private key, or its public key not uploaded
//	40002  isv.invalid-app-id              ErrInvalidCredential  wrong appid
//	40001  isv.missing-signature-key       ErrInvalidCredential  no app public key set in the console
//	40002  isv.invalid-signature-type      ErrInvalidCredential  the app is not set up for RSA2
//	20000  isp.unknow-error, aop.unknow-*  ErrSystemBusy         retried (WithRetry), then returned
//	40006  (any)                           ErrNotAllowed         the app lacks the API's permission
//	other                                  none                  read SubCode and SubMsg
//
// A phone response that does not verify, does not decrypt or carries a code
// other than 10000 matches [ErrInvalidPhoneCode]; one refused for
// permissions (40006, isv.invalid-auth-relations) [ErrNotAllowed]. A reply
// that cannot be used (not JSON, unsigned or badly signed, no user id, an
// HTTP status other than 200) matches [ErrBadResponse].
//
// Requests go through the engine every platform package shares: a 5 s
// timeout per attempt, two retries of code 20000, HTTP 5xx and failed
// connections with backoff, replies capped at 1 MiB, no redirects. The
// authCode and the request's sign are scrubbed from every error and log
// line, and an [App] prints its appid only, never a key. The
// public-key certificate mode (公钥证书) is not supported.
//
// Package alipayauthtest is a fake gateway for tests.
package alipayauth
