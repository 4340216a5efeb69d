// Package zeroauth mounts miniauth's WeChat mini-program login on go-zero's
// rest (github.com/zeromicro/go-zero/rest): the login and phone routes, the
// auth middleware, logout and logout everywhere, as [rest.Route] handlers
// and a [rest.Middleware].
//
//	hook := session.WithOnLogin(account.OnLogin(linker)) // gives the session its user
//	server.AddRoutes([]rest.Route{
//		{Method: http.MethodPost, Path: "/api/login", Handler: zeroauth.Login(app, sessions, hook)},
//		{Method: http.MethodPost, Path: "/api/phone", Handler: zeroauth.Phone(app, sessions, hook)},
//		{Method: http.MethodPost, Path: "/api/logout", Handler: zeroauth.Logout(sessions)},
//		{Method: http.MethodPost, Path: "/api/logout/all", Handler: zeroauth.LogoutAll(sessions)},
//	})
//	server.AddRoutes(rest.WithMiddlewares([]rest.Middleware{zeroauth.Middleware(sessions)},
//		rest.Route{Method: http.MethodGet, Path: "/api/me", Handler: meHandler(svcCtx)},
//	))
//	server.AddRoutes(rest.WithMiddlewares([]rest.Middleware{zeroauth.RequireSubject(sessions)}, // registered users only: 403 not_registered
//		rest.Route{Method: http.MethodGet, Path: "/api/orders", Handler: ordersHandler(svcCtx)},
//	))
//
// go-zero's handlers are net/http handlers, so the Record is where
// [session.Manager.Middleware] puts it: a logic built on r.Context() finds
// it with [session.FromContext](l.ctx). The answers are session's own: those
// of its login, phone and logout handlers, and the Middleware's 401 and 503
// refusals (through the Manager's [session.WithErrorHandler]), not httpx's.
package zeroauth

import (
	"net/http"

	"github.com/zeromicro/go-zero/rest"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
)

// Login returns the login route's handler: [session.LoginHandler] on apps
// and m, for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) http.HandlerFunc {
	adapter.MustManager("zeroauth", m)
	return session.LoginHandler(apps, m, opts...).ServeHTTP
}

// Middleware returns [session.Manager.Middleware] as go-zero route
// middleware (for [rest.WithMiddlewares] or [rest.Server.Use]): a request
// goes on only with a valid token, and carries its Record in its context
// ([session.FromContext]); the others are answered 401 or 503 as the
// Middleware answers them.
//
// It panics when m is nil.
func Middleware(m *session.Manager) rest.Middleware {
	adapter.MustManager("zeroauth", m)
	return func(next http.HandlerFunc) http.HandlerFunc {
		return m.Middleware(next).ServeHTTP
	}
}

// RequireSubject returns [session.Manager.RequireSubject] as go-zero route
// middleware: a request goes on only when its session has a subject
// ([session.Record.Subject]: a user the application knows); a session
// without one is answered 403 not_registered through the Manager's error
// handler. Behind [Middleware] it uses the Record found there; alone, it
// authenticates the request first, with the Middleware's refusals.
//
// It panics when m is nil.
func RequireSubject(m *session.Manager) rest.Middleware {
	adapter.MustManager("zeroauth", m)
	return func(next http.HandlerFunc) http.HandlerFunc {
		return m.RequireSubject(next).ServeHTTP
	}
}

// Phone returns the phone route: [session.PhoneHandler] on apps and m,
// for a POST of {phoneCode} with the session's token. It binds the phone
// to the session through the same [session.WithOnLogin] hook as [Login]
// (pass the same opts) and answers a new token that carries the hook's
// subject; the old token is revoked. The session's app must be a [session.PhoneClient]
// (as *wxauth.App is), or the route answers 500.
//
// It panics when m is nil.
func Phone(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) http.HandlerFunc {
	adapter.MustManager("zeroauth", m)
	return session.PhoneHandler(apps, m, opts...).ServeHTTP
}

// Logout returns the logout route's handler: [session.LogoutHandler], for a POST
// with the token. It revokes the token and answers 204 No Content, also for
// a token already revoked or expired (a retried logout succeeds); in cookie
// mode it clears the cookie. A request without a token, or with a
// malformed one, is refused 401 as [Middleware] refuses it; 503 when the store
// is down.
//
// It panics when m is nil.
func Logout(m *session.Manager) http.HandlerFunc {
	adapter.MustManager("zeroauth", m)
	return session.LogoutHandler(m).ServeHTTP
}

// LogoutAll returns the "log out everywhere" route's handler:
// [session.LogoutAllHandler], for a POST with a valid token. It ends every
// session of the token's owner ([session.Manager.RevokeAll] of
// [session.Record.Owner]), on every device, and answers 204 No Content. An
// expired or revoked token is refused 401.
//
// It panics when m is nil.
func LogoutAll(m *session.Manager) http.HandlerFunc {
	adapter.MustManager("zeroauth", m)
	return session.LogoutAllHandler(m).ServeHTTP
}
