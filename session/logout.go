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
	var err error
	if m == nil {
		err = errors.New("session: logout handler: nil manager")
		m = brokenManager(err)
	} else if m.err != nil {
		err = m.unusable()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const op = "logout"
		if !acceptPost(m, err, w, r, op) {
			return
		}
		if err := m.RevokeRequest(r); err != nil {
			e := m.tokenError(err)
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
