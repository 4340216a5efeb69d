// Package miniauth is the platform-neutral contract of mini-program login:
// what a login server needs from WeChat, QQ, Douyin, Alipay, Baidu, Kuaishou
// or WeCom, whichever platform the mini-program runs on.
//
// A platform package (wxauth, qqauth, douyinauth, alipayauth, baiduauth,
// kuaishouauth, wecomauth) builds a [Client] for one app: it exchanges the
// code the mini-program got from its login call (wx.login, tt.login,
// my.getAuthCode, ...) for a [Session]. What else a platform can do is a
// capability, an interface the client may also implement: [Decrypter] and
// [SignatureVerifier] for the user data the mini-program sends,
// [PhoneExchanger] for a phone-number button's code, [PhoneDecrypter] for
// Alipay's signed and encrypted phone response.
//
// [Apps] says which client serves a request's app: one client serves its own
// app, [NewApps] a fixed set of apps on any platforms, [AppsFunc] tenants
// loaded at run time. Package session's handlers take an Apps.
//
// Every platform maps its error codes to the sentinels of this package
// ([ErrInvalidCode], [ErrCodeUsed], ...), so that code written against
// [Client] branches on errors.Is the same way on every platform; the
// platform's own code stays in its typed error (wxauth.APIError, ...).
//
// The package does no I/O and has no dependency beyond the standard library
// and package crypto.
package miniauth
