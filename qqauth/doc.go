// Package qqauth logs QQ mini-program users in: the code from qq.login for
// the user's session (openid, unionid, session_key), the rawData signature
// check and the decryption of encryptedData, and the app's access token.
//
// QQ speaks WeChat's wire on its own host (api.q.qq.com): GET
// /sns/jscode2session with appid, secret, js_code and grant_type, errcode
// and errmsg in every reply, AES-128-CBC user data with a watermark, and
// classic access tokens from GET /api/getToken. An [*App] is a
// [miniauth.Client], so session.LoginHandler serves QQ as it serves WeChat:
//
//	app, err := qqauth.New(os.Getenv("QQ_APPID"), os.Getenv("QQ_SECRET"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	sess, err := app.Code2Session(ctx, code) // qq.login's code
//	if errors.Is(err, miniauth.ErrInvalidCode) {
//		// the client calls qq.login again
//	}
//	var profile qqauth.UserInfo
//	err = app.Decrypt(sess.SessionKey, encryptedData, iv, &profile) // checks the watermark
//
// QQ has no server API that exchanges a phone-number button's code, and
// documents no phone number in encryptedData either: an App is no
// [miniauth.PhoneExchanger], and a login that needs a phone number asks the
// user for it by other means.
//
// Package qqauthtest is a fake QQ server for tests that run offline.
//
// # Errors
//
// QQ's errcodes and what they match with errors.Is. Codes from
// https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_login.html#code2session
// (mirrored at https://w3cschool.cn/qqxiaochengxu/qqxiaochengxu-c5fl3875.html)
// and https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_use.html;
// those marked (WeChat) are WeChat's codes on the same wire, which QQ's
// pages do not list.
//
//	errcode  meaning                                 matches
//	-1       system busy (retried first)             miniauth.ErrSystemBusy
//	40029    invalid code                            miniauth.ErrInvalidCode
//	40163    code already used (WeChat)              miniauth.ErrCodeUsed
//	45011    rate limit: 100 a minute per user       miniauth.ErrRateLimited
//	40001    getToken: bad secret; else bad token    miniauth.ErrInvalidCredential
//	40013    invalid appid                           miniauth.ErrInvalidCredential
//	40125    invalid appsecret (WeChat)              miniauth.ErrInvalidCredential
//	40014    invalid access_token (WeChat)           miniauth.ErrInvalidCredential
//	42001    access_token expired (WeChat)           miniauth.ErrInvalidCredential
//
// Every other errcode is an [*APIError] matching no sentinel, with QQ's
// errmsg in Msg. A code refused before any request (empty, too long, not
// printable ASCII) matches miniauth.ErrInvalidCode; an HTTP status other
// than 200 is a [*StatusError]; an unusable reply matches
// miniauth.ErrBadResponse. No error, log line or printed value carries the
// secret, a code, a session_key or a token.
package qqauth
