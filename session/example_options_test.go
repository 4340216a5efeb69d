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
)

// An application whose API wraps every answer in its own envelope writes
// the middleware's refusals in that shape too. e.Err is the cause, for logs
// only: never write it to the client.
func ExampleWithErrorHandler() {
	type envelope struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		Hint  string `json:"hint"`
	}
	sessions := session.NewManager(nil, session.WithErrorHandler(
		func(w http.ResponseWriter, r *http.Request, e *session.HTTPError) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			_ = json.NewEncoder(w).Encode(envelope{Error: e.Code, Hint: e.Message})
		}))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()
	api := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":true}`)
	}))

	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/me", nil)) // no token
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	// Output:
	// 401 {"ok":false,"error":"invalid_token","hint":"a valid login token is required"}
}

// Clients that keep the token in a cookie (a web view, an H5 page) are
// served by reading it from there instead of the Authorization header.
// LoginHandler and PhoneHandler set the cookie themselves; a token issued by
// hand is set as they set it: Secure, HttpOnly, SameSite.
func ExampleWithTokenCookie() {
	sessions := session.NewManager(nil, session.WithTokenCookie("sid"))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()
	me := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", rec.OpenID)
	}))

	// At login: issue a token and set it as a cookie.
	token, err := sessions.Issue(context.Background(), &wxauth.Session{OpenID: "o-alice"})
	if err != nil {
		log.Fatal(err)
	}
	login := httptest.NewRecorder()
	http.SetCookie(login, &http.Cookie{
		Name: "sid", Value: token, Path: "/", MaxAge: int(sessions.TTL().Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})

	// Later requests carry the cookie back.
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	for _, c := range login.Result().Cookies() {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	me.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())

	// The Authorization header is no longer read.
	r = httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w = httptest.NewRecorder()
	me.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// 200 hello o-alice
	// 401
}
