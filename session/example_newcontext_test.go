package session_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wxmp/miniauth/session"
)

// profile is a handler that sits behind Manager.Middleware in the
// application: it reads the login's record from the request's context.
func profile(w http.ResponseWriter, r *http.Request) {
	rec, ok := session.FromContext(r.Context())
	if !ok { // not behind the middleware: a wiring mistake
		http.Error(w, "no session", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "hello %s", rec.OpenID)
}

// A unit test of a handler that sits behind the middleware needs no token:
// NewContext puts the record into the request, as the middleware would.
func ExampleNewContext() {
	r := httptest.NewRequest(http.MethodGet, "/api/profile", nil)
	r = r.WithContext(session.NewContext(r.Context(), &session.Record{OpenID: "o-alice"}))
	w := httptest.NewRecorder()

	profile(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 hello o-alice
}
