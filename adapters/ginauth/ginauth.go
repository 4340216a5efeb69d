// Package ginauth mounts miniauth's WeChat mini-program login on gin
// (github.com/gin-gonic/gin): the login and phone routes, the auth
// middleware with the session's [session.Record] in the gin context, logout
// and logout everywhere.
//
//	hook := session.WithOnLogin(account.OnLogin(linker)) // gives the session its user
//	r.POST("/api/login", ginauth.Login(app, sessions, hook))
//	r.POST("/api/phone", ginauth.Phone(app, sessions, hook))
//	r.POST("/api/logout", ginauth.Logout(sessions))
//	r.POST("/api/logout/all", ginauth.LogoutAll(sessions))
//	api := r.Group("/api", ginauth.Middleware(sessions))
//	api.GET("/me", func(c *gin.Context) { rec, _ := ginauth.Record(c); c.JSON(200, gin.H{"user": rec.Subject}) })
//	api.GET("/orders", ginauth.RequireSubject(sessions), orders) // registered users only: 403 not_registered
//
// The answers are session's own, byte for byte: those of its login, phone
// and logout handlers, and the Middleware's 401 and 503 refusals (through
// the Manager's [session.WithErrorHandler]). Any other handler of package
// session mounts with [Handler].
package ginauth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
)

// recordKey is the gin context key of the Record.
type recordKey struct{}

// Handler returns h as a gin handler, for the handlers of package session
// that have no function here. Like [gin.WrapH], it hands h gin's request
// (with its context) and response writer.
func Handler(h http.Handler) gin.HandlerFunc {
	return gin.WrapH(h)
}

// Login returns the login route: [session.LoginHandler] on apps and m,
// for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return Handler(session.LoginHandler(apps, m, opts...))
}

// Middleware returns gin middleware that lets a request on only with a
// valid token, as [session.Manager.Middleware] does: it answers the others
// as the Middleware answers them (401 invalid_token or expired_token, with
// WWW-Authenticate for bearer tokens; 503 store_unavailable) and aborts the
// chain. A request let on carries its Record in the gin context ([Record])
// and in its request context ([session.FromContext] on c.Request.Context()).
//
// It panics when m is nil.
func Middleware(m *session.Manager) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return func(c *gin.Context) {
		r, rec := adapter.Authenticate(m, c.Writer, c.Request)
		if rec == nil {
			c.Abort()
			return
		}
		c.Request = r
		c.Set(recordKey{}, rec)
		c.Next()
	}
}

// RequireSubject returns gin middleware that lets a request on only when
// its session has a subject ([session.Record.Subject]: a user the
// application knows), as [session.Manager.RequireSubject] does: a session
// without one is answered 403 not_registered through the Manager's error
// handler, and the chain is aborted. Behind [Middleware] it uses the Record
// found there; alone, it authenticates the request first, with the
// Middleware's refusals. A request let on carries its Record as after
// Middleware.
//
// It panics when m is nil.
func RequireSubject(m *session.Manager) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return func(c *gin.Context) {
		rec, ok := Record(c)
		r, rec := adapter.RequireSubject(m, c.Writer, adapter.WithRecord(c.Request, rec, ok))
		if rec == nil {
			c.Abort()
			return
		}
		c.Request = r
		c.Set(recordKey{}, rec)
		c.Next()
	}
}

// Record returns the Record [Middleware] put into c, and whether there is
// one.
func Record(c *gin.Context) (*session.Record, bool) {
	v, _ := c.Get(recordKey{})
	rec, ok := v.(*session.Record)
	return rec, ok && rec != nil
}

// Phone returns the phone route: [session.PhoneHandler] on apps and m,
// for a POST of {phoneCode} with the session's token. It binds the phone
// to the session through the same [session.WithOnLogin] hook as [Login]
// (pass the same opts) and answers a new token that carries the hook's
// subject; the old token is revoked. The session's app must be a [session.PhoneClient]
// (as *wxauth.App is), or the route answers 500.
//
// It panics when m is nil.
func Phone(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return Handler(session.PhoneHandler(apps, m, opts...))
}

// Logout returns the logout route: [session.LogoutHandler], for a POST
// with the token. It revokes the token and answers 204 No Content, also for
// a token already revoked or expired (a retried logout succeeds); in cookie
// mode it clears the cookie. A request without a token, or with a
// malformed one, is refused 401 as [Middleware] refuses it; 503 when the store
// is down.
//
// It panics when m is nil.
func Logout(m *session.Manager) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return Handler(session.LogoutHandler(m))
}

// LogoutAll returns the "log out everywhere" route:
// [session.LogoutAllHandler], for a POST with a valid token. It ends every
// session of the token's owner ([session.Manager.RevokeAll] of
// [session.Record.Owner]), on every device, and answers 204 No Content. An
// expired or revoked token is refused 401.
//
// It panics when m is nil.
func LogoutAll(m *session.Manager) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return Handler(session.LogoutAllHandler(m))
}
