// Package hertzauth mounts miniauth's WeChat mini-program login on Hertz
// (github.com/cloudwego/hertz): the login and phone routes, the auth
// middleware with the session's [session.Record] in the RequestContext and
// in the context handed to the next handlers, logout and logout everywhere.
//
//	hook := session.WithOnLogin(account.OnLogin(linker)) // gives the session its user
//	h.POST("/api/login", hertzauth.Login(wx, sessions, hook))
//	h.POST("/api/phone", hertzauth.Phone(wx, sessions, hook))
//	h.POST("/api/logout", hertzauth.Logout(sessions))
//	h.POST("/api/logout/all", hertzauth.LogoutAll(sessions))
//	api := h.Group("/api", hertzauth.Middleware(sessions))
//	api.GET("/me", func(ctx context.Context, c *app.RequestContext) {
//		rec, _ := hertzauth.Record(c)
//		c.JSON(200, utils.H{"user": rec.Subject})
//	})
//	api.GET("/orders", hertzauth.RequireSubject(sessions), orders) // registered users only: 403 not_registered
//
// Hertz is not built on net/http: each route hands session an
// *http.Request made from Hertz's request by
// [github.com/cloudwego/hertz/pkg/common/adaptor.HertzHandler] (method,
// URL, every header and cookie, the body, and the handler's context), and
// session's answers are written into Hertz's response. They are session's
// own, byte for byte: those of its login, phone and logout handlers, and
// the Middleware's 401 and 503 refusals (through the Manager's
// [session.WithErrorHandler]). Any other handler of package session mounts
// with [Handler].
package hertzauth

import (
	"context"
	"net/http"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/adaptor"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
)

// recordKey is the RequestContext key of the Record.
const recordKey = "github.com/wxmp/miniauth/session.Record"

// Handler returns h as a Hertz handler, for the handlers of package session
// that have no function here. h gets an *http.Request whose context is the
// ctx Hertz hands the handler (see the package doc).
func Handler(h http.Handler) app.HandlerFunc {
	return adaptor.HertzHandler(h)
}

// Login returns the login route: [session.LoginHandler] on apps and m,
// for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) app.HandlerFunc {
	adapter.MustManager("hertzauth", m)
	return Handler(session.LoginHandler(apps, m, opts...))
}

// Middleware returns Hertz middleware that lets a request on only with a
// valid token, as [session.Manager.Middleware] does: it answers the others
// as the Middleware answers them (401 invalid_token or expired_token, with
// WWW-Authenticate for bearer tokens; 503 store_unavailable) and aborts the
// chain. A request let on carries its Record in the RequestContext
// ([Record]), and the next handlers get a ctx where [session.FromContext]
// finds it.
//
// It panics when m is nil.
func Middleware(m *session.Manager) app.HandlerFunc {
	adapter.MustManager("hertzauth", m)
	return func(ctx context.Context, c *app.RequestContext) {
		var rec *session.Record
		Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, rec = adapter.Authenticate(m, w, r)
		}))(ctx, c)
		if rec == nil {
			c.Abort()
			return
		}
		c.Set(recordKey, rec)
		c.Next(session.NewContext(ctx, rec))
	}
}

// RequireSubject returns Hertz middleware that lets a request on only when
// its session has a subject ([session.Record.Subject]: a user the
// application knows), as [session.Manager.RequireSubject] does: a session
// without one is answered 403 not_registered through the Manager's error
// handler, and the chain is aborted. Behind [Middleware] it uses the Record
// found there; alone, it authenticates the request first, with the
// Middleware's refusals. A request let on carries its Record as after
// Middleware.
//
// It panics when m is nil.
func RequireSubject(m *session.Manager) app.HandlerFunc {
	adapter.MustManager("hertzauth", m)
	return func(ctx context.Context, c *app.RequestContext) {
		var rec *session.Record
		prev, ok := Record(c)
		Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, rec = adapter.RequireSubject(m, w, adapter.WithRecord(r, prev, ok))
		}))(ctx, c)
		if rec == nil {
			c.Abort()
			return
		}
		c.Set(recordKey, rec)
		c.Next(session.NewContext(ctx, rec))
	}
}

// Record returns the Record [Middleware] put into c, and whether there is
// one.
func Record(c *app.RequestContext) (*session.Record, bool) {
	v, _ := c.Get(recordKey)
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
func Phone(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) app.HandlerFunc {
	adapter.MustManager("hertzauth", m)
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
func Logout(m *session.Manager) app.HandlerFunc {
	adapter.MustManager("hertzauth", m)
	return Handler(session.LogoutHandler(m))
}

// LogoutAll returns the "log out everywhere" route:
// [session.LogoutAllHandler], for a POST with a valid token. It ends every
// session of the token's owner ([session.Manager.RevokeAll] of
// [session.Record.Owner]), on every device, and answers 204 No Content. An
// expired or revoked token is refused 401.
//
// It panics when m is nil.
func LogoutAll(m *session.Manager) app.HandlerFunc {
	adapter.MustManager("hertzauth", m)
	return Handler(session.LogoutAllHandler(m))
}
