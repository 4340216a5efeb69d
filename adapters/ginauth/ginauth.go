// Package ginauth mounts miniauth's WeChat mini-program login on gin
// (github.com/gin-gonic/gin): the login route, the auth middleware with the
// session's [session.Record] in the gin context, and logout.
//
//	r.POST("/api/login", ginauth.Login(app, sessions))
//	api := r.Group("/api", ginauth.Middleware(sessions))
//	api.GET("/me", func(c *gin.Context) { rec, _ := ginauth.Record(c); c.JSON(200, gin.H{"openid": rec.OpenID}) })
//	api.POST("/logout", ginauth.Logout(sessions))
//
// The answers are session's own, byte for byte: the login handler's JSON,
// and the Middleware's 401 and 503 refusals (through the Manager's
// [session.WithErrorHandler]). Any other handler of package session
// mounts with [Handler].
package ginauth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// recordKey is the gin context key of the Record.
type recordKey struct{}

// Handler returns h as a gin handler, for the handlers of package session
// that have no function here. Like [gin.WrapH], it hands h gin's request
// (with its context) and response writer.
func Handler(h http.Handler) gin.HandlerFunc {
	return gin.WrapH(h)
}

// Login returns the login route: [session.LoginHandler] on client and m,
// for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(client wxauth.Client, m *session.Manager, opts ...session.LoginOption) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return Handler(session.LoginHandler(client, m, opts...))
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

// Record returns the Record [Middleware] put into c, and whether there is
// one.
func Record(c *gin.Context) (*session.Record, bool) {
	v, _ := c.Get(recordKey{})
	rec, ok := v.(*session.Record)
	return rec, ok && rec != nil
}

// Logout returns the logout route: it revokes the request's token
// ([session.Manager.RevokeRequest]) and answers 204 No Content. A request
// without a valid token is refused as [Middleware] refuses it.
//
// It panics when m is nil.
func Logout(m *session.Manager) gin.HandlerFunc {
	adapter.MustManager("ginauth", m)
	return Handler(adapter.Logout(m))
}
