// Package zeroauth mounts miniauth's WeChat mini-program login on go-zero's
// rest (github.com/zeromicro/go-zero/rest): the login route, the auth
// middleware and logout, as [rest.Route] handlers and a [rest.Middleware].
//
//	server.AddRoute(rest.Route{Method: http.MethodPost, Path: "/api/login", Handler: zeroauth.Login(app, sessions)})
//	server.AddRoutes(rest.WithMiddlewares([]rest.Middleware{zeroauth.Middleware(sessions)},
//		rest.Route{Method: http.MethodGet, Path: "/api/me", Handler: meHandler(svcCtx)},
//		rest.Route{Method: http.MethodPost, Path: "/api/logout", Handler: zeroauth.Logout(sessions)},
//	))
//
// go-zero's handlers are net/http handlers, so the Record is where
// [session.Manager.Middleware] puts it: a logic built on r.Context() finds
// it with [session.FromContext](l.ctx). The answers are session's own: the
// login handler's JSON, and the Middleware's 401 and 503 refusals (through
// the Manager's [session.WithErrorHandler]), not httpx's.
package zeroauth

import (
	"net/http"

	"github.com/zeromicro/go-zero/rest"

	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// Login returns the login route's handler: [session.LoginHandler] on client
// and m, for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(client wxauth.Client, m *session.Manager, opts ...session.LoginOption) http.HandlerFunc {
	adapter.MustManager("zeroauth", m)
	return session.LoginHandler(client, m, opts...).ServeHTTP
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

// Logout returns the logout route's handler: it revokes the request's token
// ([session.Manager.RevokeRequest]) and answers 204 No Content. A request
// without a valid token is refused as [Middleware] refuses it.
//
// It panics when m is nil.
func Logout(m *session.Manager) http.HandlerFunc {
	adapter.MustManager("zeroauth", m)
	return adapter.Logout(m).ServeHTTP
}
