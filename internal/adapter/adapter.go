// Package adapter is the net/http half that the framework adapters (the
// nested modules under github.com/wxmp/miniauth/adapters) share: the
// authentication step of [session.Manager.Middleware] without its next
// handler, and a logout handler. Each adapter turns its framework's request
// into an *http.Request and its response into an http.ResponseWriter, calls
// these, and puts the [session.Record] where its framework's handlers look.
package adapter

import (
	"context"
	"errors"
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

// Logout returns a handler that revokes the token of the request
// ([session.Manager.RevokeRequest]) and answers 204 No Content. A request
// without a valid token is refused as the Middleware refuses it (401
// invalid_token or expired_token); a store that fails while the token is
// revoked is answered 503 store_unavailable (or 500 server_error) with
// [session.WriteError].
func Logout(m *session.Manager) http.Handler {
	return m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.RevokeRequest(r); err != nil {
			session.WriteError(w, r, revokeError(err))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}))
}

// revokeError is the answer to a failed revoke of a token that was valid a
// moment before: the store failed, or the client went away.
func revokeError(err error) *session.HTTPError {
	switch {
	case errors.Is(err, session.ErrStoreUnavailable):
		return &session.HTTPError{Status: http.StatusServiceUnavailable, Code: session.CodeStoreUnavailable,
			Message: "sessions are unavailable: try again later", Err: err}
	case errors.Is(err, context.Canceled):
		return &session.HTTPError{Status: session.StatusClientClosedRequest, Code: session.CodeCanceled,
			Message: "request canceled", Err: err}
	default:
		return &session.HTTPError{Status: http.StatusInternalServerError, Code: session.CodeServerError,
			Message: "internal server error", Err: err}
	}
}
