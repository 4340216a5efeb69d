package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// The login of a new app: a silent wx.login gives a session without a
// subject ({"registered": false}); the phone-number button then gives a
// phone code that PhoneHandler exchanges, and the hook binds the phone to
// the application's user. The client gets a new token that carries it.
func ExamplePhoneHandler() {
	wechat := wxauthtest.NewServer("wx4f4bc4dec97d474b", "your-app-secret") // a real server talks to WeChat
	defer wechat.Close()
	app, err := wxauth.New("wx4f4bc4dec97d474b", "your-app-secret", wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()

	usersByPhone := map[string]string{} // the application's users table
	hook := session.WithOnLogin(func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		if info.Phone == nil && info.Subject == "" {
			return map[string]any{"registered": false}, nil // show the phone button
		}
		if info.Phone != nil {
			id, ok := usersByPhone[info.Phone.PhoneNumber]
			if !ok {
				id = fmt.Sprintf("user-%d", len(usersByPhone)+1)
				usersByPhone[info.Phone.PhoneNumber] = id
			}
			info.Subject = id
		}
		return map[string]any{"registered": true}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", session.LoginHandler(app, sessions, hook))
	mux.Handle("POST /api/phone", session.PhoneHandler(app, sessions, hook))
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "subject %q", rec.Subject)
	})))
	post := func(path, token, body string) (int, map[string]any) {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		var resp map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &resp)
		return w.Code, resp
	}
	me := func(token string) string {
		r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return fmt.Sprint(w.Code, " ", w.Body.String())
	}

	user := wechat.AddUser(wxauthtest.User{})
	status, login := post("/api/login", "", `{"code":"`+wechat.Login(user)+`"}`) // wx.login, silent
	silent := login["token"].(string)
	fmt.Println(status, login["registered"], me(silent))

	phoneCode, _ := wechat.PhoneCode(user) // the user pressed the phone button
	status, bound := post("/api/phone", silent, `{"phoneCode":"`+phoneCode+`"}`)
	fmt.Println(status, bound["registered"], me(bound["token"].(string)))
	fmt.Println(me(silent)) // the old token was revoked
	// Output:
	// 200 false 200 subject ""
	// 200 true 200 subject "user-1"
	// 401 {"error":"invalid_token","message":"a valid login token is required"}
}

// LogoutHandler revokes the token the request carries.
func ExampleLogoutHandler() {
	sessions := session.NewManager(nil)
	defer sessions.Close()
	logout := session.LogoutHandler(sessions)
	token, err := sessions.Issue(context.Background(), &wxauth.Session{OpenID: "o-alice"})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, "/api/logout", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		logout.ServeHTTP(w, r)
		_, err := sessions.Validate(context.Background(), token)
		fmt.Println(w.Code, err)
	}
	// Output:
	// 204 session: invalid token
	// 204 session: invalid token
}
