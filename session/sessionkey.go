package session

import (
	"context"
	"errors"
	"net/http"

	"github.com/wxmp/miniauth"
)

// CodeSessionKeyExpired (401) is the machine code [Manager.RequireSessionKey]
// answers with when WeChat no longer accepts the session_key kept for a
// login, usually because the user called wx.login again elsewhere. The
// client should call wx.login and log in anew, which stores a fresh key.
const CodeSessionKeyExpired = "session_key_expired"

// SessionKeyChecker asks WeChat whether a user's session_key is still valid.
// *wxauth.App implements it ([wxauth.App.CheckSessionKey]): it returns nil
// for a valid key and an error matching [miniauth.ErrSessionKeyExpired] for a
// key WeChat no longer accepts. Implementations must be safe for concurrent
// use.
type SessionKeyChecker interface {
	CheckSessionKey(ctx context.Context, openID, sessionKey string) error
}

// RequireSessionKey returns a handler, to sit behind [Manager.Middleware],
// that asks WeChat (through checker) whether the session_key kept for the
// request's login is still valid before it calls next.
//
// Put it only in front of the endpoints that need the key, such as one that
// decrypts encryptedData the client sends after login: each request costs a
// call to WeChat, against the app's daily quota of checksession calls, so
// rate-limit such endpoints per user. A key WeChat no longer accepts is answered 401
// {"error": "session_key_expired"}, so the client logs in again instead of
// sending data that cannot be decrypted; when WeChat cannot be asked, the
// answer is 502 wechat_unavailable (500 when the app's credentials are
// wrong). A request without a record in its context (the handler is not
// behind the middleware) is a misconfiguration: 500.
func (m *Manager) RequireSessionKey(checker SessionKeyChecker, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := FromContext(r.Context())
		switch {
		case m.err != nil:
			m.refuse(w, r, "session key", serverError(m.err))
			return
		case checker == nil || next == nil:
			m.refuse(w, r, "session key", serverError(errors.New("session: RequireSessionKey: nil checker or next handler")))
			return
		case !ok:
			m.refuse(w, r, "session key", serverError(errors.New("session: RequireSessionKey must sit behind Manager.Middleware")))
			return
		}
		err := checker.CheckSessionKey(r.Context(), rec.OpenID, rec.SessionKey)
		if err == nil {
			next.ServeHTTP(w, r)
			return
		}
		if errors.Is(err, miniauth.ErrSessionKeyExpired) {
			m.refuse(w, r, "session key", &HTTPError{Status: http.StatusUnauthorized, Code: CodeSessionKeyExpired,
				Message: "the WeChat session has changed: call wx.login and log in again", Err: err})
			return
		}
		m.refuse(w, r, "session key", WeChatError(r.Context(), err))
	})
}
