package session

import (
	"net/http"
	"time"
)

// CodeCrossOrigin (403) is the machine code of a state-changing request that a
// browser sent from another origin to a Manager that reads its token from a
// cookie ([WithTokenCookie]): a cross-site request forgery, refused.
const CodeCrossOrigin = "cross_origin_request"

// cookieMode reports whether the Manager reads its token from a cookie.
func (m *Manager) cookieMode() bool { return m.cfg.token.kind == fromCookie }

// checkOrigin refuses, in cookie mode, a request with an unsafe method (not
// GET, HEAD or OPTIONS) that a browser sent from another origin, as
// [http.CrossOriginProtection] decides. A cookie rides along with every
// request a browser sends, whoever made the page; a header token does not,
// so header and bearer modes need no such check.
func (m *Manager) checkOrigin(r *http.Request) *HTTPError {
	if !m.cookieMode() {
		return nil
	}
	if err := m.cfg.origins.Check(r); err != nil {
		return &HTTPError{Status: http.StatusForbidden, Code: CodeCrossOrigin,
			Message: "cross-origin requests are refused", Err: err}
	}
	return nil
}

// setTokenCookie sets the token cookie of a Manager in cookie mode: HttpOnly
// (no script reads it), Secure (HTTPS only; browsers count
// http://localhost as secure), SameSite=Lax, Path=/, Max-Age the TTL.
//
// Lax rather than Strict: unsafe cross-origin requests are refused by
// [Manager.checkOrigin] whatever the cookie's SameSite, and Lax keeps a user
// logged in when they follow a link to the site from elsewhere.
func (m *Manager) setTokenCookie(w http.ResponseWriter, token string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     m.cfg.token.name,
		Value:    token,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearTokenCookie tells the browser to drop the token cookie.
func (m *Manager) clearTokenCookie(w http.ResponseWriter) {
	m.setTokenCookie(w, "", -time.Second) // Max-Age=0
}
