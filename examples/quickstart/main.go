// Command quickstart runs the login flow of a mini-program as they are built
// today, on one machine, against the fake WeChat of package wxauthtest: no
// credentials, no network. It plays both sides and prints each step:
//
//   - the mini-program: a silent wx.login (a code), later the phone-number
//     button (a phone code);
//   - the server: session.LoginHandler, session.PhoneHandler and
//     session.LogoutHandler over HTTP, with a hook that keeps the app's own
//     users (by openid and phone), and an endpoint behind the Middleware.
//
// Then one person logs in to the same product on WeChat, Douyin and Alipay
// (platforms.go): one miniauth.NewApps of the three apps behind one login
// endpoint, each platform's phone form, and package account joining the
// three identities into one user by the phone, against the fakes of
// wxauthtest, douyinauthtest and alipayauthtest.
//
// Run it from the repository root:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	appID  = "wx1234567890abcdef"
	secret = "quickstart-secret-not-a-real-one"
	alice  = "oQuickstartUser0000000000001"
	bob    = "oQuickstartUser0000000000002"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// users is the app's own user table: in production, a database.
type users struct {
	mu      sync.Mutex
	byOpen  map[string]string // openid -> user id
	byPhone map[string]string // phone -> user id
}

// onLogin binds a WeChat identity to the app's user: an openid it knows is
// that user; else a phone number (from the phone button) finds or creates
// one; else the session has no subject yet and the client is told so.
func (u *users) onLogin(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := u.byOpen[info.Session.OpenID]
	if id == "" && info.Phone != nil {
		if id = u.byPhone[info.Phone.PhoneNumber]; id == "" {
			id = fmt.Sprintf("user-%d", len(u.byPhone)+1)
			u.byPhone[info.Phone.PhoneNumber] = id
		}
		u.byOpen[info.Session.OpenID] = id
	}
	if id == "" {
		return map[string]any{"registered": false}, nil // the client shows the phone button
	}
	info.Subject = id
	return map[string]any{"registered": true}, nil
}

func run(ctx context.Context, out io.Writer) error {
	n := 0
	step := func(format string, args ...any) {
		n++
		fmt.Fprintf(out, "%d. "+format+"\n", append([]any{n}, args...)...)
	}

	// A fake WeChat API on a local port; in production this is api.weixin.qq.com.
	wechat, err := wxauthtest.Start(appID, secret)
	if err != nil {
		return err
	}
	defer wechat.Close()
	wechat.AddUser(wxauthtest.User{OpenID: alice, PurePhoneNumber: "13800138000"})
	wechat.AddUser(wxauthtest.User{OpenID: bob, PurePhoneNumber: "13900139000"})

	// --- the server ---
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		return err
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()
	table := &users{byOpen: map[string]string{}, byPhone: map[string]string{}}
	hook := session.WithOnLogin(table.onLogin)
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", session.LoginHandler(app, sessions, hook))
	mux.Handle("POST /api/phone", session.PhoneHandler(app, sessions, hook))
	mux.Handle("POST /api/logout", session.LogoutHandler(sessions))
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "openid %s, user %q", rec.OpenID, rec.Subject)
	})))
	server := httptest.NewServer(mux)
	defer server.Close()
	c := client{base: server.URL, ctx: ctx}

	// --- the mini-program ---
	code := wechat.Login(alice) // wx.login(): silent, free
	step("mini-program: wx.login() gave a one-time code (%d characters)", len(code))
	status, login, err := c.post("/api/login", "", `{"code":"`+code+`"}`)
	if err != nil {
		return err
	}
	step("POST /api/login {code} -> %d openid %v, registered %v (no user yet: the session has no subject)",
		status, login["openid"], login["registered"])
	silent, _ := login["token"].(string)
	if err := c.me(step, silent, "with the silent login's token"); err != nil {
		return err
	}

	phoneCode, err := wechat.PhoneCode(alice) // <button open-type="getPhoneNumber">: e.detail.code
	if err != nil {
		return err
	}
	step("mini-program: the phone-number button gave a one-time phone code (WeChat billed the press)")
	status, bound, err := c.post("/api/phone", silent, `{"phoneCode":"`+phoneCode+`"}`)
	if err != nil {
		return err
	}
	fresh, _ := bound["token"].(string)
	step("POST /api/phone {phoneCode} with the token -> %d registered %v, new token: %t", status, bound["registered"], fresh != silent && fresh != "")
	if err := c.me(step, silent, "with the old token"); err != nil {
		return err
	}
	if err := c.me(step, fresh, "with the new token"); err != nil {
		return err
	}

	// A login code works once.
	status, replay, err := c.post("/api/login", "", `{"code":"`+code+`"}`)
	if err != nil {
		return err
	}
	step("POST /api/login with the same code again -> %d %v", status, replay["error"])

	// Next launch: the silent login alone finds the user by openid.
	status, again, err := c.post("/api/login", "", `{"code":"`+wechat.Login(alice)+`"}`)
	if err != nil {
		return err
	}
	step("next launch: POST /api/login {code} -> %d registered %v", status, again["registered"])

	// Another user does both at once: the phone code is spent only after the
	// login itself succeeded.
	bobPhone, err := wechat.PhoneCode(bob)
	if err != nil {
		return err
	}
	status, bad, err := c.post("/api/login", "", `{"code":"expired-code","phoneCode":"`+bobPhone+`"}`)
	if err != nil {
		return err
	}
	step("POST /api/login {code, phoneCode} with a bad login code -> %d %v; phone exchanges so far: %d",
		status, bad["error"], wechat.Calls(wxauthtest.PathPhoneNumber))
	status, oneShot, err := c.post("/api/login", "", `{"code":"`+wechat.Login(bob)+`","phoneCode":"`+bobPhone+`"}`)
	if err != nil {
		return err
	}
	bobToken, _ := oneShot["token"].(string)
	step("POST /api/login {code, phoneCode}, a fresh code, the same phone code -> %d registered %v", status, oneShot["registered"])
	if err := c.me(step, bobToken, "with that token"); err != nil {
		return err
	}

	status, _, err = c.post("/api/logout", bobToken, "")
	if err != nil {
		return err
	}
	step("POST /api/logout -> %d", status)
	if err := c.me(step, bobToken, "after the logout"); err != nil {
		return err
	}

	// The same product on three platforms: see platforms.go.
	return manyPlatforms(ctx, step, wechat, app)
}

// client is the mini-program's wx.request.
type client struct {
	base string
	ctx  context.Context
}

func (c client) do(method, path, token, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(c.ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// post sends a JSON body and decodes the JSON answer, if any.
func (c client) post(path, token, body string) (int, map[string]any, error) {
	status, b, err := c.do(http.MethodPost, path, token, body)
	if err != nil || len(b) == 0 {
		return status, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return status, nil, fmt.Errorf("%s: %d %q: %w", path, status, b, err)
	}
	return status, m, nil
}

// me prints the answer of GET /api/me with token.
func (c client) me(step func(string, ...any), token, label string) error {
	status, b, err := c.do(http.MethodGet, "/api/me", token, "")
	if err != nil {
		return err
	}
	step("GET /api/me %s -> %d %s", label, status, strings.TrimSpace(string(b)))
	return nil
}
