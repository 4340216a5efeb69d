package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// After code2session, the server keeps the session and hands the client an
// opaque token; later requests are checked with Validate.
func ExampleManager() {
	ctx := context.Background()
	sessions := session.NewManager(nil, session.WithTTL(time.Hour)) // nil: in memory
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()

	// What wxauth's Code2Session returned.
	sess := &wxauth.Session{OpenID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", SessionKey: "tiihtNczf5v6AKRyjwEUhQ=="}
	token, err := sessions.Issue(ctx, sess)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token length:", len(token))

	rec, err := sessions.Validate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("openid:", rec.OpenID)
	fmt.Println("valid for:", rec.ExpiresAt.Sub(rec.IssuedAt))
	fmt.Println("printed:", strings.Contains(fmt.Sprint(rec), sess.SessionKey)) // the key never prints

	if err := sessions.Revoke(ctx, token); err != nil { // logout
		log.Fatal(err)
	}
	_, err = sessions.Validate(ctx, token)
	fmt.Println("after revoke:", errors.Is(err, session.ErrInvalidToken))
	// Output:
	// token length: 43
	// openid: o6_bmjrPTlm6_2sgVt7hMZOPfL2M
	// valid for: 1h0m0s
	// printed: false
	// after revoke: true
}

// The middleware lets through requests with a valid bearer token and hands
// the handler the session's record.
func ExampleManager_Middleware() {
	sessions := session.NewManager(nil)
	defer sessions.Close()
	me := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", rec.OpenID)
	}))

	token, err := sessions.Issue(context.Background(), &wxauth.Session{OpenID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"})
	if err != nil {
		log.Fatal(err)
	}
	for _, auth := range []string{"Bearer " + token, "Bearer not-a-token"} {
		r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		me.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 hello o6_bmjrPTlm6_2sgVt7hMZOPfL2M
	// 401 {"error":"invalid_token","message":"a valid login token is required"}
}

// fakeWeChat stands in for api.weixin.qq.com in the examples: it answers
// code2session for any code.
func fakeWeChat() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain") // as WeChat does
		fmt.Fprint(w, `{"openid":"o6_bmjrPTlm6_2sgVt7hMZOPfL2M","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`)
	}))
}

// A complete login: POST /api/login exchanges the code from wx.login for a
// token, and GET /api/me needs that token.
func ExampleLoginHandler() {
	wechat := fakeWeChat() // a real server leaves WithBaseURL out
	defer wechat.Close()
	app, err := wxauth.New("wx4f4bc4dec97d474b", "your-app-secret", wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()

	mux := http.NewServeMux()
	mux.Handle("POST /api/login", session.LoginHandler(app, sessions))
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", rec.OpenID)
	})))

	// The mini-program posts the code from wx.login...
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(`{"code":"0a3Xyz"}`)))
	var login struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expiresIn"`
		OpenID    string `json:"openid"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &login); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Code, login.OpenID, login.ExpiresIn)

	// ...and sends the token it got with every later request.
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+login.Token)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 o6_bmjrPTlm6_2sgVt7hMZOPfL2M 86400
	// 200 hello o6_bmjrPTlm6_2sgVt7hMZOPfL2M
}

// The OnLogin hook maps the WeChat user to the application's own, adds
// fields to the response, or refuses the login.
func ExampleWithOnLogin() {
	wechat := fakeWeChat()
	defer wechat.Close()
	app, err := wxauth.New("wx4f4bc4dec97d474b", "your-app-secret", wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()

	banned := map[string]bool{}
	users := map[string]int{} // openid -> user id: the application's database
	login := session.LoginHandler(app, sessions, session.WithOnLogin(
		func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
			if banned[info.Session.OpenID] {
				return nil, session.ErrLoginRefused // 403 login_refused
			}
			id, ok := users[info.Session.OpenID]
			if !ok {
				id = len(users) + 1
				users[info.Session.OpenID] = id
			}
			return map[string]any{"userId": id, "newUser": !ok}, nil
		}))

	for range 2 {
		w := httptest.NewRecorder()
		login.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(`{"code":"0a3Xyz"}`)))
		var resp struct {
			UserID  int  `json:"userId"`
			NewUser bool `json:"newUser"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &resp)
		fmt.Println(w.Code, resp.UserID, resp.NewUser)
	}
	banned["o6_bmjrPTlm6_2sgVt7hMZOPfL2M"] = true
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(`{"code":"0a3Xyz"}`)))
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	// Output:
	// 200 1 true
	// 200 1 false
	// 403 {"error":"login_refused","message":"login refused"}
}
