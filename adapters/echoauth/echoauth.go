// Package echoauth mounts miniauth's WeChat mini-program login on Echo v4
// (github.com/labstack/echo/v4): the login and phone routes, the auth
// middleware with the session's [session.Record] in the echo context, logout
// and logout everywhere.
//
//	hook := session.WithOnLogin(account.OnLogin(linker)) // gives the session its user
//	e.POST("/api/login", echoauth.Login(app, sessions, hook))
//	e.POST("/api/phone", echoauth.Phone(app, sessions, hook))
//	e.POST("/api/logout", echoauth.Logout(sessions))
//	e.POST("/api/logout/all", echoauth.LogoutAll(sessions))
//	api := e.Group("/api", echoauth.Middleware(sessions))
//	api.GET("/me", func(c echo.Context) error { rec, _ := echoauth.Record(c); return c.JSON(200, rec.Subject) })
//	api.GET("/orders", orders, echoauth.RequireSubject(sessions)) // registered users only: 403 not_registered
//
// The answers are session's own, byte for byte: those of its login, phone
// and logout handlers, and the Middleware's 401 and 503 refusals (through
// the Manager's [session.WithErrorHandler]). Any other handler of package
// session mounts with [Handler].
package echoauth

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
)

// recordKey is the echo context key of the Record.
const recordKey = "github.com/wxmp/miniauth/session.Record"

// Handler returns h as an echo handler, for the handlers of package session
// that have no function here. Like [echo.WrapHandler], it hands h echo's
// request (with its context) and response.
func Handler(h http.Handler) echo.HandlerFunc {
	return echo.WrapHandler(h)
}

// Login returns the login route: [session.LoginHandler] on apps and m,
// for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) echo.HandlerFunc {
	adapter.MustManager("echoauth", m)
	return Handler(session.LoginHandler(apps, m, opts...))
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

// RequireSubject returns echo middleware that lets a request on only when
// its session has a subject ([session.Record.Subject]: a user the
// application knows), as [session.Manager.RequireSubject] does: a session
// without one is answered 403 not_registered through the Manager's error
// handler, and next is not called. Behind [Middleware] it uses the Record
// found there; alone, it authenticates the request first, with the
// Middleware's refusals. A request let on carries its Record as after
// Middleware.
//
// It panics when m is nil.
func RequireSubject(m *session.Manager) echo.MiddlewareFunc {
	adapter.MustManager("echoauth", m)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			rec, ok := Record(c)
			r, rec := adapter.RequireSubject(m, c.Response(), adapter.WithRecord(c.Request(), rec, ok))
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

// Phone returns the phone route: [session.PhoneHandler] on apps and m,
// for a POST of {phoneCode} with the session's token. It binds the phone
// to the session through the same [session.WithOnLogin] hook as [Login]
// (pass the same opts) and answers a new token that carries the hook's
// subject; the old token is revoked. The session's app must be a [session.PhoneClient]
// (as *wxauth.App is), or the route answers 500.
//
// It panics when m is nil.
func Phone(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) echo.HandlerFunc {
	adapter.MustManager("echoauth", m)
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
func Logout(m *session.Manager) echo.HandlerFunc {
	adapter.MustManager("echoauth", m)
	return Handler(session.LogoutHandler(m))
}

// LogoutAll returns the "log out everywhere" route:
// [session.LogoutAllHandler], for a POST with a valid token. It ends every
// session of the token's owner ([session.Manager.RevokeAll] of
// [session.Record.Owner]), on every device, and answers 204 No Content. An
// expired or revoked token is refused 401.
//
// It panics when m is nil.
func LogoutAll(m *session.Manager) echo.HandlerFunc {
	adapter.MustManager("echoauth", m)
	return Handler(session.LogoutAllHandler(m))
}
