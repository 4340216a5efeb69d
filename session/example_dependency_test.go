package session_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// The login hook needs the application's own database. Registered as a
// dependency, the database is probed before a login spends its wx.login
// code: while it is down, logins are refused 503 store_unavailable and
// WeChat is not called.
func ExampleWithDependency() {
	wechat := wxauthtest.NewServer("wx0123456789abcdef", "0123456789abcdef0123456789abcdef")
	defer wechat.Close()
	app, err := wxauth.New("wx0123456789abcdef", "0123456789abcdef0123456789abcdef", wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}

	dbUp := false // the application's database, down for this example
	ready := func(ctx context.Context) error {
		if !dbUp {
			return errors.New("dial tcp 10.0.0.5:5432: connection refused")
		}
		return nil
	}
	sessions := session.NewManager(nil, session.WithDependency("users db", ready))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()
	hook := func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		if err := ready(ctx); err != nil { // a query of the users table, say
			return nil, &session.UnavailableError{Dependency: "users db", Ready: ready, Err: err}
		}
		info.Subject = "user-1"
		return nil, nil
	}
	login := session.LoginHandler(app, sessions, session.WithOnLogin(hook))

	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login",
		strings.NewReader(`{"code":"`+wechat.Login("")+`"}`)))
	fmt.Print(w.Code, " ", w.Body.String())
	fmt.Println("codes spent:", wechat.Calls(wxauthtest.PathCode2Session))
	// Output:
	// 503 {"error":"store_unavailable","message":"the service cannot log you in right now: try again later"}
	// codes spent: 0
}
