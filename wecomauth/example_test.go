package wecomauth_test

import (
	"context"
	"fmt"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/wecomauth"
	"github.com/wxmp/miniauth/wecomauth/wecomauthtest"
	"github.com/wxmp/miniauth/wxauth"
)

// A member of the corp opens the mini-program in WeCom: the code from
// wx.qy.login gives their userid. The same appid also serves WeChat; an
// AppSet keyed by platform holds both clients.
func ExampleNew() {
	srv := wecomauthtest.NewServer("ww0123456789abcdef", "corp-app-secret")
	defer srv.Close()
	qy, err := wecomauth.New("wx4f4bc4dec97d474b", "ww0123456789abcdef", "corp-app-secret", wecomauth.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	wx, err := wxauth.New("wx4f4bc4dec97d474b", "wechat-app-secret")
	if err != nil {
		panic(err)
	}
	apps, err := miniauth.NewApps(wx, qy)
	if err != nil {
		panic(err)
	}

	c, err := apps.AppOn(context.Background(), miniauth.WeCom, "wx4f4bc4dec97d474b")
	if err != nil {
		panic(err)
	}
	sess, err := c.Code2Session(context.Background(), srv.Login("zhangsan")) // wx.qy.login's code
	if err != nil {
		panic(err)
	}
	fmt.Println(sess.Platform, sess.OpenID)
	// Output:
	// wecom zhangsan
}
