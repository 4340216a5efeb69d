package hertzauth_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"

	hzapp "github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/utils"

	"github.com/wxmp/miniauth/adapters/hertzauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// newService is a whole mini-program login service on Hertz: silent login
// ({code}) and phone login ({code, phoneCode}) on one route, me, logout, and
// logout on every device.
func newService(app *wxauth.App, sessions *session.Manager, u *users, opts ...config.Option) *server.Hertz {
	h := server.New(opts...)
	h.POST("/api/login", hertzauth.Login(app, sessions, session.WithOnLogin(u.onLogin)))
	api := h.Group("/api", hertzauth.Middleware(sessions))
	api.GET("/me", func(ctx context.Context, c *hzapp.RequestContext) {
		rec, _ := hertzauth.Record(c)
		c.JSON(http.StatusOK, utils.H{"openid": rec.OpenID, "user": rec.Subject})
	})
	api.POST("/logout", hertzauth.Logout(sessions))
	api.POST("/logout/all", func(ctx context.Context, c *hzapp.RequestContext) {
		rec, _ := hertzauth.Record(c)
		if err := revokeAll(ctx, sessions, cmp.Or(rec.Subject, rec.OpenID)); err != nil {
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, utils.H{"error": "store_unavailable"})
			return
		}
		c.Status(http.StatusNoContent)
	})
	return h
}

// users is the app's own user table (package session/account does this
// with the full binding rules, and in SQL).
type users struct {
	mu       sync.Mutex
	byOpenID map[string]string // openid -> user id
	byPhone  map[string]string // phone number -> user id
}

// onLogin gives the session its user: the openid's, or on a phone login
// the phone's (a new user for a new phone).
func (u *users) onLogin(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := u.byOpenID[info.Session.OpenID]
	if id == "" && info.Phone != nil {
		if id = u.byPhone[info.Phone.PurePhoneNumber]; id == "" {
			id = fmt.Sprintf("u%d", len(u.byPhone)+1)
			u.byPhone[info.Phone.PurePhoneNumber] = id
		}
		u.byOpenID[info.Session.OpenID] = id
	}
	info.Subject = id
	return nil, nil
}

// revokeAll is (*session.Manager).RevokeAll, reached through an interface
// so that this example builds on a session package without it.
func revokeAll(ctx context.Context, m *session.Manager, subject string) error {
	all, ok := any(m).(interface {
		RevokeAll(ctx context.Context, subject string) error
	})
	if !ok {
		return errors.ErrUnsupported
	}
	return all.RevokeAll(ctx, subject)
}

// The service of newService against the fake WeChat: a silent login, me,
// logout, and me again.
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
	u := &users{byOpenID: map[string]string{}, byPhone: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	h := newService(app, sessions, u, server.WithListener(ln), server.WithDisablePrintRoute(true))
	go func() { _ = h.Run() }() // in production: h.Spin()
	defer func() { _ = h.Shutdown(context.Background()) }()
	defer http.DefaultClient.CloseIdleConnections() // or Shutdown waits for them
	url := "http://" + ln.Addr().String()

	var login struct{ Token string }
	_ = json.Unmarshal(call(url, "POST /api/login", "", `{"code":"`+wechat.Login("o-alice")+`"}`), &login)
	token := login.Token
	call(url, "GET /api/me", token, "")
	call(url, "POST /api/logout", token, "")
	call(url, "GET /api/me", token, "")
	// Output:
	// POST /api/login: 200
	// GET /api/me: 200 {"openid":"o-alice","user":""}
	// POST /api/logout: 204
	// GET /api/me: 401 {"error":"invalid_token","message":"a valid login token is required"}
}

// call sends "METHOD /path" with the token and JSON body, prints the status
// (and the body, but for a login's, which holds the token) and returns the
// body.
func call(base, route, token, body string) []byte {
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
	if strings.HasSuffix(path, "/login") {
		fmt.Println(route+":", resp.StatusCode)
	} else {
		fmt.Println(strings.TrimSpace(fmt.Sprintln(route+":", resp.StatusCode, string(b))))
	}
	return b
}
