// Package adapter is the net/http half that the framework adapters (the
// nested modules under github.com/wxmp/miniauth/adapters) share: the
// authentication step of [session.Manager.Middleware] without its next
// handler. Each adapter's middleware turns its framework's request into an
// *http.Request and its response into an http.ResponseWriter, calls
// [Authenticate], and puts the [session.Record] where its framework's
// handlers look. Their routes are session's own handlers
// ([session.LoginHandler], [session.PhoneHandler], [session.LogoutHandler],
// [session.LogoutAllHandler]), wrapped as the framework wraps a net/http
// handler.
package adapter

import (
	"net/http"

	"github.com/wxmp/miniauth/session"
)

// MustManager panics when m is nil, naming the adapter's package pkg: an
// adapter built on no Manager is a programmer's error, found when the routes
// are set up rather than at the first request. A Manager whose options
// failed is not refused here: it answers every request 500, as its own
// handlers do (see [session.Manager.Err]).
func MustManager(pkg string, m *session.Manager) {
	if m == nil {
		panic(pkg + ": nil *session.Manager")
	}
}

// Authenticate decides r as [session.Manager.Middleware] does. With a valid
// token it writes nothing and returns the request to pass on, whose context
// carries the Record ([session.FromContext]), and the Record. Otherwise the
// Manager has answered w exactly as its Middleware answers (401 with
// WWW-Authenticate for a bearer token, 503 store_unavailable, ..., through
// its [session.WithErrorHandler] and logged as the Middleware logs), and
// Authenticate returns nil, nil: the adapter must stop its chain.
//
// It runs the Middleware itself rather than [session.Manager.Authenticate],
// because only the Middleware knows the Manager's error handler and whether
// its tokens are bearer tokens.
func Authenticate(m *session.Manager, w http.ResponseWriter, r *http.Request) (*http.Request, *session.Record) {
	var passed *http.Request
	m.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		passed = r
	})).ServeHTTP(w, r)
	if passed == nil {
		return nil, nil
	}
	rec, ok := session.FromContext(passed.Context())
	if !ok {
		return nil, nil // unreachable: the Middleware passes only with a Record
	}
	return passed, rec
}

// RequireSubject decides r as [session.Manager.RequireSubject] does: a
// request whose context carries a Record (put there by [Authenticate], or
// by the adapter from its framework's context) is checked for a subject;
// one without is authenticated first, as [Authenticate] does. With a
// session that has a subject it writes nothing and returns the request to
// pass on, whose context carries the Record, and the Record. Otherwise the
// Manager has answered w exactly as its RequireSubject answers (403
// not_registered, or the Middleware's refusals, through its
// [session.WithErrorHandler]), and RequireSubject returns nil, nil.
func RequireSubject(m *session.Manager, w http.ResponseWriter, r *http.Request) (*http.Request, *session.Record) {
	var passed *http.Request
	m.RequireSubject(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		passed = r
	})).ServeHTTP(w, r)
	if passed == nil {
		return nil, nil
	}
	rec, ok := session.FromContext(passed.Context())
	if !ok {
		return nil, nil // unreachable: RequireSubject passes only with a Record
	}
	return passed, rec
}

// WithRecord returns r with rec in its context, when rec is not nil: the
// Record an adapter's middleware left in its framework's context, for
// [RequireSubject].
func WithRecord(r *http.Request, rec *session.Record, ok bool) *http.Request {
	if !ok {
		return r
	}
	return r.WithContext(session.NewContext(r.Context(), rec))
}
