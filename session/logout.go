package session

import (
	"errors"
	"net/http"
)

// LogoutHandler returns the handler of a logout: a POST that carries the
// token (as [Manager.Middleware] reads it) and has it revoked
// ([Manager.RevokeRequest]). It answers 204 No Content, also for a token
// that was already revoked or has expired, so that a client that retries a
// logout is not told it failed. In cookie mode it also clears the cookie.
//
// A request without a token, or with a malformed one, is answered 401
// invalid_token as the middleware answers it; 503 store_unavailable when
// the store is down (the token may still be valid: retry); 405 for another
// method; in cookie mode, 403 cross_origin_request for a browser's request
// from another origin. A nil or misconfigured Manager answers 500.
func LogoutHandler(m *Manager) http.Handler {
	return logoutHandler(m, "logout", func(m *Manager, r *http.Request) error {
		return m.RevokeRequest(r)
	})
}

// LogoutAllHandler returns the handler of "log out everywhere": a POST with
// a valid token (checked as [Manager.Authenticate] checks it) that ends every
// session of the token's owner ([Manager.RevokeAll] of [Record.Owner]: the
// user's subject, or for a session not bound to a user, its openid), on
// every device, this one included, and for a user the sessions its openids
// held before they were bound to it. It answers 204 No Content and, in cookie
// mode, clears the cookie.
//
// Its refusals are those of [LogoutHandler], except that a token that is
// expired or already revoked is refused 401 (it no longer proves who the
// user is), and a store without [SubjectStore] answers 500 (see
// [ErrRevokeAllUnsupported]).
func LogoutAllHandler(m *Manager) http.Handler {
	return logoutHandler(m, "logout all", func(m *Manager, r *http.Request) error {
		rec, e := m.Authenticate(r)
		if e != nil {
			return e
		}
		return m.RevokeAll(r.Context(), rec.Owner())
	})
}

// logoutHandler is the handler that LogoutHandler and LogoutAllHandler
// share: revoke does the revoking, and returns an error of the Manager or an
// [*HTTPError] to answer.
func logoutHandler(m *Manager, op string, revoke func(*Manager, *http.Request) error) http.Handler {
	var err error
	switch {
	case m == nil:
		err = errors.New("session: " + op + " handler: nil manager")
		m = brokenManager(err)
	case m.err != nil:
		err = m.unusable()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptPost(m, err, w, r, op) {
			return
		}
		if err := revoke(m, r); err != nil {
			var e *HTTPError
			if !errors.As(err, &e) {
				e = m.tokenError(err)
			}
			if e.Status == http.StatusUnauthorized && m.cookieMode() {
				m.clearTokenCookie(w)
			}
			m.refuseToken(w, r, op, e)
			return
		}
		if m.cookieMode() {
			m.clearTokenCookie(w)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}
