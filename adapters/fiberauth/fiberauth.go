// Package fiberauth mounts miniauth's WeChat mini-program login on Fiber v2
// (github.com/gofiber/fiber/v2): the login and phone routes, the auth
// middleware with the session's [session.Record] in c.Locals and in
// c.UserContext(), logout and logout everywhere.
//
//	hook := session.WithOnLogin(account.OnLogin(linker)) // gives the session its user
//	app.Post("/api/login", fiberauth.Login(wx, sessions, hook))
//	app.Post("/api/phone", fiberauth.Phone(wx, sessions, hook))
//	app.Post("/api/logout", fiberauth.Logout(sessions))
//	app.Post("/api/logout/all", fiberauth.LogoutAll(sessions))
//	api := app.Group("/api", fiberauth.Middleware(sessions))
//	api.Get("/me", func(c *fiber.Ctx) error { rec, _ := fiberauth.Record(c); return c.JSON(fiber.Map{"user": rec.Subject}) })
//	api.Get("/orders", fiberauth.RequireSubject(sessions), orders) // registered users only: 403 not_registered
//
// Fiber is built on fasthttp, not net/http: each route hands session an
// *http.Request made from Fiber's request (method, URL, every header and
// cookie, the body) whose context is c.UserContext(), and session's answers
// are written into Fiber's response. They are session's own, byte for
// byte: those of its login, phone and logout handlers, and the Middleware's
// 401 and 503 refusals (through the Manager's [session.WithErrorHandler]).
// Any other handler of package session mounts with [Handler].
package fiberauth

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/adapter"
	"github.com/wxmp/miniauth/session"
)

// recordKey is the c.Locals key of the Record.
type recordKey struct{}

// Handler returns h as a Fiber handler, for the handlers of package session
// that have no function here. h gets an *http.Request whose context is
// c.UserContext() and that is valid only while h runs (it shares Fiber's
// buffers); what h writes becomes Fiber's response.
//
// It differs from [adaptor.HTTPHandler] in the context (that one hands h
// fasthttp's RequestCtx, which carries nothing of c.UserContext()).
func Handler(h http.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r, err := request(c)
		if err != nil {
			return err
		}
		h.ServeHTTP(&responseWriter{c: c}, r)
		return nil
	}
}

// request returns the net/http view of c's request.
func request(c *fiber.Ctx) (*http.Request, error) {
	r, err := adaptor.ConvertRequest(c, true)
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, "malformed request URI")
	}
	return r.WithContext(c.UserContext()), nil
}

// Login returns the login route: [session.LoginHandler] on apps and m,
// for a POST of {code, ...} from the mini-program.
//
// It panics when m is nil.
func Login(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) fiber.Handler {
	adapter.MustManager("fiberauth", m)
	return Handler(session.LoginHandler(apps, m, opts...))
}

// Middleware returns Fiber middleware that lets a request on only with a
// valid token, as [session.Manager.Middleware] does: it answers the others
// as the Middleware answers them (401 invalid_token or expired_token, with
// WWW-Authenticate for bearer tokens; 503 store_unavailable) and does not
// call c.Next. A request let on carries its Record in c.Locals ([Record])
// and in c.UserContext() ([session.FromContext]).
//
// It panics when m is nil.
func Middleware(m *session.Manager) fiber.Handler {
	adapter.MustManager("fiberauth", m)
	return func(c *fiber.Ctx) error {
		r, err := request(c)
		if err != nil {
			return err
		}
		r, rec := adapter.Authenticate(m, &responseWriter{c: c}, r)
		if rec == nil {
			return nil
		}
		c.Locals(recordKey{}, rec)
		c.SetUserContext(r.Context())
		return c.Next()
	}
}

// RequireSubject returns Fiber middleware that lets a request on only when
// its session has a subject ([session.Record.Subject]: a user the
// application knows), as [session.Manager.RequireSubject] does: a session
// without one is answered 403 not_registered through the Manager's error
// handler, and c.Next is not called. Behind [Middleware] it uses the Record
// found there; alone, it authenticates the request first, with the
// Middleware's refusals. A request let on carries its Record as after
// Middleware.
//
// It panics when m is nil.
func RequireSubject(m *session.Manager) fiber.Handler {
	adapter.MustManager("fiberauth", m)
	return func(c *fiber.Ctx) error {
		r, err := request(c)
		if err != nil {
			return err
		}
		rec, ok := Record(c)
		r, rec = adapter.RequireSubject(m, &responseWriter{c: c}, adapter.WithRecord(r, rec, ok))
		if rec == nil {
			return nil
		}
		c.Locals(recordKey{}, rec)
		c.SetUserContext(r.Context())
		return c.Next()
	}
}

// Record returns the Record [Middleware] put into c, and whether there is
// one.
func Record(c *fiber.Ctx) (*session.Record, bool) {
	rec, ok := c.Locals(recordKey{}).(*session.Record)
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
func Phone(apps miniauth.Apps, m *session.Manager, opts ...session.LoginOption) fiber.Handler {
	adapter.MustManager("fiberauth", m)
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
func Logout(m *session.Manager) fiber.Handler {
	adapter.MustManager("fiberauth", m)
	return Handler(session.LogoutHandler(m))
}

// LogoutAll returns the "log out everywhere" route:
// [session.LogoutAllHandler], for a POST with a valid token. It ends every
// session of the token's owner ([session.Manager.RevokeAll] of
// [session.Record.Owner]), on every device, and answers 204 No Content. An
// expired or revoked token is refused 401.
//
// It panics when m is nil.
func LogoutAll(m *session.Manager) fiber.Handler {
	adapter.MustManager("fiberauth", m)
	return Handler(session.LogoutAllHandler(m))
}

// responseWriter writes a net/http answer into Fiber's response. Fiber
// sends the response once the handler returns.
type responseWriter struct {
	c      *fiber.Ctx
	header http.Header
	wrote  bool
}

func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *responseWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	h := &w.c.Response().Header
	for k, vs := range w.header {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	w.c.Status(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.c.Write(b)
}
