// Package e2e holds the end-to-end test of every platform behind one login
// endpoint: one [miniauth.NewApps] of WeChat, QQ, Douyin, Alipay, Baidu,
// Kuaishou and WeCom, one session.LoginHandler and one session.PhoneHandler,
// each platform's user logged in against its fake, with its phone form, and
// an account.Linker joining one phone across platforms. It has no code of
// its own; nothing imports it.
//
// [miniauth.NewApps]: https://pkg.go.dev/github.com/wxmp/miniauth#NewApps
package e2e
