package hertzauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	hzapp "github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/utils"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/adapters/hertzauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// newService is a whole mini-program login service on Hertz: silent login
// ({code}), phone login ({phoneCode}, with the silent login's token), me,
// logout, and logout on every device. linker gives each session its user
// (see package account).
func newService(app *wxauth.App, sessions *session.Manager, linker *account.Linker, opts ...config.Option) *server.Hertz {
	hook := session.WithOnLogin(account.OnLogin(linker))
	h := server.New(opts...)
	h.POST("/api/login", hertzauth.Login(app, sessions, hook))
	h.POST("/api/phone", hertzauth.Phone(app, sessions, hook))
	h.POST("/api/logout", hertzauth.Logout(sessions))
	h.POST("/api/logout/all", hertzauth.LogoutAll(sessions))
	api := h.Group("/api", hertzauth.Middleware(sessions))
	api.GET("/me", func(ctx context.Context, c *hzapp.RequestContext) {
		rec, _ := hertzauth.Record(c)
		c.JSON(http.StatusOK, utils.H{"openid": rec.OpenID, "user": rec.Subject})
	})
	return h
}

// The service of newService against the fake WeChat: a silent login, a
// phone login that gives the session its user, a login on a second and a
// third device, logout of one, and logout everywhere.
func Example() {
	const appID, secret = "wx0123456789abcdef", "app-secret"
	wechat := wxauthtest.NewServer(appID, secret)
	defer wechat.Close()
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()
	var users atomic.Int64 // in production: account's sqlstore, and your users table's ids
	linker := account.New(account.NewMemoryStore(), account.WithNewUser(func(context.Context, account.Identity) (string, error) {
		return fmt.Sprint("u", users.Add(1)), nil
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := newService(app, sessions, linker, server.WithListener(ln), server.WithDisablePrintRoute(true))
	go func() { _ = h.Run() }() // in production: h.Spin()
	defer func() { _ = h.Shutdown(context.Background()) }()
	defer http.DefaultClient.CloseIdleConnections() // or Shutdown waits for them
	c := client("http://" + ln.Addr().String())

	silent := c("POST /api/login", "", `{"code":"`+wechat.Login("o-alice")+`"}`)
	c("GET /api/me", silent, "")
	code, _ := wechat.PhoneCode("o-alice")
	phone := c("POST /api/phone", silent, `{"phoneCode":"`+code+`"}`)
	c("GET /api/me", silent, "")
	c("GET /api/me", phone, "")
	second := c("POST /api/login", "", `{"code":"`+wechat.Login("o-alice")+`"}`)
	c("POST /api/logout", second, "")
	c("GET /api/me", second, "")
	third := c("POST /api/login", "", `{"code":"`+wechat.Login("o-alice")+`"}`)
	c("POST /api/logout/all", phone, "")
	c("GET /api/me", phone, "")
	c("GET /api/me", third, "")
	// Output:
	// POST /api/login: 200 {"openid":"o-alice","registered":false}
	// GET /api/me: 200 {"openid":"o-alice","user":""}
	// POST /api/phone: 200 {"created":true,"openid":"o-alice","registered":true}
	// GET /api/me: 401 {"error":"invalid_token","message":"a valid login token is required"}
	// GET /api/me: 200 {"openid":"o-alice","user":"u1"}
	// POST /api/login: 200 {"openid":"o-alice","registered":true}
	// POST /api/logout: 204
	// GET /api/me: 401 {"error":"invalid_token","message":"a valid login token is required"}
	// POST /api/login: 200 {"openid":"o-alice","registered":true}
	// POST /api/logout/all: 204
	// GET /api/me: 401 {"error":"invalid_token","message":"a valid login token is required"}
	// GET /api/me: 401 {"error":"invalid_token","message":"a valid login token is required"}
}

// client returns a function that sends "METHOD /path" to base with the
// token and JSON body, prints the status and the body (but for the token
// and expiresIn of a login's), and returns the token of a login's answer.
func client(base string) func(route, token, body string) (newToken string) {
	return func(route, token, body string) (newToken string) {
		method, path, _ := strings.Cut(route, " ")
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var login map[string]any
		if json.Unmarshal(b, &login) == nil && login["token"] != nil {
			newToken, _ = login["token"].(string)
			delete(login, "token")
			delete(login, "expiresIn")
			b, _ = json.Marshal(login)
		}
		fmt.Println(strings.TrimSpace(fmt.Sprintln(route+":", resp.StatusCode, string(b))))
		return newToken
	}
}
