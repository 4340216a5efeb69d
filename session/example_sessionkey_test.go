package session_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// An endpoint that needs the user's session_key (to decrypt data sent after
// login) sits behind RequireSessionKey, which asks WeChat whether the stored
// key is still valid. Here the fake WeChat of package wxauthtest plays
// WeChat, and the user logs in again elsewhere, which rotates the key.
func ExampleManager_RequireSessionKey() {
	ctx := context.Background()
	wechat := wxauthtest.NewServer("wx1234567890abcdef", "example-secret-0123456789abcdef")
	defer wechat.Close()
	app, err := wxauth.New("wx1234567890abcdef", "example-secret-0123456789abcdef", wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()

	sess, err := app.Code2Session(ctx, wechat.Login("oExampleUser0000000000000001"))
	if err != nil {
		log.Fatal(err)
	}
	token, err := sessions.Issue(ctx, sess)
	if err != nil {
		log.Fatal(err)
	}

	decrypt := sessions.Middleware(sessions.RequireSessionKey(app, http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "the stored session_key still works") })))
	call := func() {
		r := httptest.NewRequest(http.MethodPost, "/api/decrypt", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rr := httptest.NewRecorder()
		decrypt.ServeHTTP(rr, r)
		fmt.Println(rr.Code, rr.Body.String())
	}
	call()
	wechat.Login("oExampleUser0000000000000001") // wx.login again: a new session_key
	call()
	// Output:
	// 200 the stored session_key still works
	// 401 {"error":"session_key_expired","message":"the WeChat session has changed: call wx.login and log in again"}
}
