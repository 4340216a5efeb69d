// Package wecomauth logs in the members of a corp who open a WeChat
// mini-program inside WeCom (企业微信): the code from wx.qy.login for the
// member's session (userid, session_key), through the corp access token of
// the WeCom app the mini-program is associated with.
//
// The mini-program is a WeChat one and keeps its appid: in WeChat it logs
// in with wx.login (package wxauth), in WeCom with wx.qy.login (this
// package). Serve both behind one handler with a [miniauth.AppSet] of the
// two clients; the login body's platform ("wecom") picks this one:
//
//	wx, _ := wxauth.New(appID, appSecret)
//	qy, err := wecomauth.New(appID, os.Getenv("WECOM_CORPID"), os.Getenv("WECOM_APP_SECRET"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	apps, _ := miniauth.NewApps(wx, qy)
//	sess, err := qy.Code2Session(ctx, code) // wx.qy.login's code: sess.OpenID is the member's userid
//
// The server calls GET /cgi-bin/gettoken?corpid&corpsecret for the corp
// access token (https://developer.work.weixin.qq.com/document/path/91039;
// 7200 s, the same token until it expires) and GET
// /cgi-bin/miniprogram/jscode2session?access_token&js_code&grant_type
// (https://developer.work.weixin.qq.com/document/path/91507), which answers
// corpid, userid and session_key. The session's OpenID is the userid,
// unique within the corp; a member of another corp is refused
// ([ErrOtherCorp]). A refused token (40014, 42001) is fetched again once.
//
// [App.VerifySignature] and [App.Decrypt] check wx.qy.getEnterpriseUserInfo's
// rawData and decrypt its encryptedData (WeChat's cipher; the watermark
// names the mini-program's appid) into an [EnterpriseUserInfo].
//
// This package covers a corp's own (自建) app. A third-party (第三方) or
// agent-developed (代开发) app's login, with a suite_access_token at
// /cgi-bin/service/miniprogram/jscode2session, is not covered; nor is a
// phone path: wx.qy.getMobile's encryptedData decrypts with [App.Decrypt],
// but WeCom does not document its field names.
//
// Package wecomauthtest is a fake WeCom server for tests that run offline.
//
// # Errors
//
// WeCom's errcodes and what they match with errors.Is, from its global
// table (https://developer.work.weixin.qq.com/document/path/90313):
//
//	errcode  meaning                                matches
//	-1       system busy (retried first)            miniauth.ErrSystemBusy
//	40029    invalid code (unknown, used, expired)  miniauth.ErrInvalidCode
//	45009    api calls over the app's limit         miniauth.ErrQuotaExceeded
//	40001    invalid corpsecret                     miniauth.ErrInvalidCredential
//	40013    invalid corpid                         miniauth.ErrInvalidCredential
//	40014    invalid access_token (refetched once)  miniauth.ErrInvalidCredential
//	41001    access_token missing                   miniauth.ErrInvalidCredential
//	41004    corpsecret missing                     miniauth.ErrInvalidCredential
//	42001    access_token expired (refetched once)  miniauth.ErrInvalidCredential
//	48001    api unauthorized                       miniauth.ErrNotAllowed
//	60011    no privilege                           miniauth.ErrNotAllowed
//	60020    the server's IP is not trusted         miniauth.ErrNotAllowed
//
// Every other errcode is an [*APIError] matching no sentinel, with WeCom's
// errmsg in Msg. A code refused before any request (empty, too long, not
// printable ASCII) matches miniauth.ErrInvalidCode; an HTTP status other
// than 200 is a [*StatusError]; an unusable reply matches
// miniauth.ErrBadResponse. No error, log line or printed value carries the
// corp secret, a code, a session_key or a token.
package wecomauth
