package fiberauth_test

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

	"github.com/gofiber/fiber/v2"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/adapters/fiberauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// newService is a whole mini-program login service on Fiber: silent login
// ({code}), phone login ({phoneCode}, with the silent login's token), me,
// logout, and logout on every device. linker gives each session its user
// (see package account).
func newService(wx *wxauth.App, sessions *session.Manager, linker *account.Linker) *fiber.App {
	hook := session.WithOnLogin(account.OnLogin(linker))
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/api/login", fiberauth.Login(wx, sessions, hook))
	app.Post("/api/phone", fiberauth.Phone(wx, sessions, hook))
	app.Post("/api/logout", fiberauth.Logout(sessions))
	app.Post("/api/logout/all", fiberauth.LogoutAll(sessions))
	api := app.Group("/api", fiberauth.Middleware(sessions))
	api.Get("/me", func(c *fiber.Ctx) error {
		rec, _ := fiberauth.Record(c)
		return c.JSON(fiber.Map{"openid": rec.OpenID, "user": rec.Subject})
	})
	return app
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
	srv := newService(app, sessions, linker)
	go func() { _ = srv.Listener(ln) }() // in production: srv.Listen(addr)
	defer func() { _ = srv.Shutdown() }()
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
