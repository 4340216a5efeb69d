package adaptertest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/internal/adaptertest"
	"github.com/wxmp/miniauth/session"
)

// Plain net/http (and so chi) needs no adapter: session's handlers and
// Middleware are net/http handlers. This runs the adapters' test on it,
// the reference the adapters are compared with.
func TestNetHTTP(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, s adaptertest.Service) string {
		mux := http.NewServeMux()
		mux.Handle("POST /login", session.LoginHandler(s.Client, s.Manager, s.Options...))
		mux.Handle("POST /phone", session.PhoneHandler(s.Client, s.Manager, s.Options...))
		mux.Handle("GET /me", s.Manager.Middleware(http.HandlerFunc(me)))
		mux.Handle("GET /registered", s.Manager.RequireSubject(http.HandlerFunc(me)))
		mux.Handle("GET /me/registered", s.Manager.Middleware(s.Manager.RequireSubject(http.HandlerFunc(me))))
		mux.Handle("POST /logout", session.LogoutHandler(s.Manager))
		mux.Handle("POST /logout/all", session.LogoutAllHandler(s.Manager))
		return serve(t, mux)
	})
}

// TestAuthenticate runs the adapters' test on adapter.Authenticate, the step
// the adapters build their middleware on.
func TestAuthenticate(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, s adaptertest.Service) string {
		mux := http.NewServeMux()
		mux.Handle("POST /login", session.LoginHandler(s.Client, s.Manager, s.Options...))
		mux.Handle("POST /phone", session.PhoneHandler(s.Client, s.Manager, s.Options...))
		mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
			if r, _ = adapter.Authenticate(s.Manager, w, r); r != nil {
				me(w, r)
			}
		})
		mux.HandleFunc("GET /registered", func(w http.ResponseWriter, r *http.Request) {
			if r, _ = adapter.RequireSubject(s.Manager, w, r); r != nil {
				me(w, r)
			}
		})
		mux.HandleFunc("GET /me/registered", func(w http.ResponseWriter, r *http.Request) {
			if r, rec := adapter.Authenticate(s.Manager, w, r); r != nil {
				if r, _ = adapter.RequireSubject(s.Manager, w, adapter.WithRecord(r, rec, true)); r != nil {
					me(w, r)
				}
			}
		})
		mux.Handle("POST /logout", session.LogoutHandler(s.Manager))
		mux.Handle("POST /logout/all", session.LogoutAllHandler(s.Manager))
		return serve(t, mux)
	})
}

func me(w http.ResponseWriter, r *http.Request) {
	rec, _ := session.FromContext(r.Context())
	_ = json.NewEncoder(w).Encode(adaptertest.Me(r.Context(), rec))
}

// serve serves h on a real listener, tagging every request's context.
func serve(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(adaptertest.Tag(r.Context())))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
