package wxauthtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// The fake pushes tickets and authorization events to a component's
// handler as WeChat does, and gives each authorizer app a fake of its own
// for its users.
func ExampleNewComponentServer() {
	key := wxauthtest.NewEncodingAESKey()
	wechat := wxauthtest.NewComponentServer("wx0c0e1f2a3b4c5d6e", "component-secret", "pushToken42", key)
	defer wechat.Close()

	// The handler under test (wxauth.Component.TicketHandler in a real test)
	// answers success.
	handler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "success")
	}))
	defer handler.Close()

	ctx := context.Background()
	fmt.Println(wechat.PushTicket(ctx, handler.URL))
	fmt.Println(wechat.PushEvent(ctx, handler.URL, "authorized", "wxa1b2c3d4e5f60718"))
	shop := wechat.App("wxa1b2c3d4e5f60718")
	code := shop.Login("o-alice") // a code for /sns/component/jscode2session
	fmt.Println(len(code))
	// Output:
	// <nil>
	// <nil>
	// 32
}
