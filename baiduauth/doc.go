// Package baiduauth logs Baidu smart-program (百度智能小程序) users in: the
// code of swan.login exchanged at spapi.baidu.com's
// /oauth/jscode2sessionkey, and the user data (profile, phone number) the
// smart program sends encrypted with the session key. Its [*App] is a
// [miniauth.Client] and a [miniauth.Decrypter] (and the [miniauth.Apps] of
// its one app), so package session's handlers serve Baidu as they serve
// WeChat.
//
//	app, err := baiduauth.New(os.Getenv("BAIDU_APP_KEY"), os.Getenv("BAIDU_APP_SECRET"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	sess, err := app.Code2Session(ctx, code)                          // swan.login's code
//	err = app.Decrypt(sess.SessionKey, encryptedData, iv, &phone)     // *miniauth.PhoneNumber
//
// The app is known by its AppKey, not its numeric AppID: [New] takes the
// AppKey and the secret, [App.AppID] returns the AppKey (a front end that
// serves several apps sends it as appid), and the AppKey closes every
// encrypted payload.
//
// Baidu's differences from WeChat: the session key is 24 bytes (32
// characters of base64), user data is AES-192-CBC with a frame of 16
// random bytes, a 4-byte big-endian length and the AppKey trailer instead
// of a watermark ([DecryptData]), the login sends no unionid, and no rawData
// signature rule is documented (so there is no VerifySignature). The phone
// number comes in the button's encryptedData, not as a code to exchange.
//
// # Errors
//
// The login answers an error with {"error","error_description"} (Baidu's
// OAuth 2.0 codes) or, on the newer host, {"errno","error",
// "error_description"}. An [*APIError] keeps them and matches by error:
//
//	error                matches               what to do
//	invalid_grant        ErrInvalidCode        the client calls swan.login again
//	invalid_client       ErrInvalidCredential  wrong AppKey or secret
//	unauthorized_client  ErrNotAllowed         the app may not use this login
//	other (errno ...)    none                  read Errno, Code and Description
//
// (https://smartprogram.baidu.com/docs/develop/api/open/log_Session-Key/ for
// the envelope; Baidu's OAuth 错误码列表 for the codes, as quoted at
// https://a.setujun.com/shows/27/3064.html.) Baidu tells no used code from
// an unknown one. invalid_grant's description echoes the code; it is
// scrubbed. An error reply counts whether Baidu sends it with HTTP 200 or,
// as OAuth endpoints do, with a 4xx. A reply without an openid or a 24-byte
// session_key, or with another HTTP status (a 4xx without an error body, a
// 5xx), matches [ErrBadResponse]. Baidu's errno table for jscode2sessionkey
// is cut from every copy of the page found: an errno reply matches no
// sentinel, and the fake (package baiduauthtest) answers a bad code with the
// OAuth form, invalid_grant.
//
// Requests go through the engine every platform package shares: a 5 s
// timeout per attempt, two retries of HTTP 5xx and failed connections with
// backoff (Baidu documents no "busy" code), replies capped at 1 MiB, no
// redirects. The secret, the code and the session key never appear in an
// error or a log line; an [App] prints its AppKey only.
//
// Package baiduauthtest is a fake of the login API for tests.
package baiduauth
