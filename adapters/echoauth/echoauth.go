// Package echoauth mounts miniauth's WeChat mini-program login on Echo v4
// (github.com/labstack/echo/v4): the login route, the auth middleware with
// the session's [session.Record] in the echo context, and logout.
//
//	e.POST("/api/login", echoauth.Login(app, sessions))
//	api := e.Group("/api", echoauth.Middleware(sessions))
//	api.GET("/me", func(c echo.Context) error { rec, _ := echoauth.Record(c); return c.JSON(200, rec.OpenID) })
//	api.POST("/logout", echoauth.Logout(sessions))
//
// The answers are session's own, byte for byte: the login handler's JSON,
// and the Middleware's 401 and 503 refusals (through the Manager's
// [session.WithErrorHandler]). Any other handler of package session
// mounts with [Handler].
package echoauth

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// recordKey is the echo context key of the Record.
const recordKey = "github.com/wxmp/miniauth/session.Record"

// Handler returns h as an echo handler, for the handlers of package session
// that have no function here. Like [echo.WrapHandler], it hands h echo's
// request (with its context) and response.
func Handler(h http.Handler) echo.HandlerFunc {
	return echo.WrapHandler(h)
}

// Login returns the login route: [session.LoginHandler] on client and m,
// for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(client wxauth.Client, m *session.Manager, opts ...session.LoginOption) echo.HandlerFunc {
	adapter.MustManager("echoauth", m)
	return Handler(session.LoginHandler(client, m, opts...))
}

// Middleware returns echo middleware that lets a request on only with a
// valid token, as [session.Manager.Middleware] does: it answers the others
// as the Middleware answers them (401 invalid_token or expired_token, with
// WWW-Authenticate for bearer tokens; 503 store_unavailable) and does not
// call next. A request let on carries its Record in the echo context
// ([Record]) and in its request context ([session.FromContext] on
// c.Request().Context()).
//
// The refusal is written, not returned as an error: echo's HTTPErrorHandler
// would answer it in its own JSON.
//
// It panics when m is nil.
func Middleware(m *session.Manager) echo.MiddlewareFunc {
	adapter.MustManager("echoauth", m)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r, rec := adapter.Authenticate(m, c.Response(), c.Request())
			if rec == nil {
				return nil
			}
			c.SetRequest(r)
			c.Set(recordKey, rec)
			return next(c)
		}
	}
}

// Record returns the Record [Middleware] put into c, and whether there is
// one.
func Record(c echo.Context) (*session.Record, bool) {
	rec, ok := c.Get(recordKey).(*session.Record)
	return rec, ok && rec != nil
}

// Logout returns the logout route: it revokes the request's token
// ([session.Manager.RevokeRequest]) and answers 204 No Content. A request
// without a valid token is refused as [Middleware] refuses it.
//
// It panics when m is nil.
func Logout(m *session.Manager) echo.HandlerFunc {
	adapter.MustManager("echoauth", m)
	return Handler(adapter.Logout(m))
}
