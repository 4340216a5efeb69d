package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ErrRecordCheck is what [Manager.Validate] wraps, beside the check's own
// error, when the [WithRecordCheck] function failed with an error other than
// [ErrLoginRefused]: the user could not be checked (the application's
// database is down). The token may well be good: the middleware answers 503
// store_unavailable and the client keeps it.
var ErrRecordCheck = errors.New("session: record check failed")

// WithRecordCheck sets a function that [Manager.Validate] calls on every
// token it finds valid, after the expiry checks and before it extends the
// token ([WithIdleTimeout]): so on every request through
// [Manager.Middleware], [Manager.Authenticate] (and the framework adapters),
// [Manager.RequireSubject], [PhoneHandler] and [LogoutAllHandler].
// [LogoutHandler] does not validate: a refused user may always log out.
//
// The check decides whether the session's user may go on (a banned or
// deleted user must not): it returns nil to let the request through, an
// error that matches [ErrLoginRefused] to refuse it (403 login_refused;
// the token is not revoked, and is refused again on every use), or another
// error when it cannot decide (its database is down): the request is
// answered 503 store_unavailable and the client keeps its token. Validate
// returns the check's error ([ErrLoginRefused], or [ErrRecordCheck] beside
// the check's error).
//
// It runs on every request: keep it cheap. A check that reads the
// application's database on each request costs a round trip each; keep the
// refused users in a set that is cheap to ask (a Redis set, or an
// in-process copy refreshed every few seconds), and add to it when a user
// is banned, before calling [Manager.RevokeAll]. A session without a
// subject (an openid not bound to a user) reaches the check too, with an
// empty [Record.Subject]. The check must not modify rec. f must be
// non-nil; it must be safe for concurrent use.
func WithRecordCheck(f func(ctx context.Context, rec *Record) error) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("session: record check must not be nil")
		}
		c.recordCheck = f
		return nil
	}
}

// runRecordCheck runs the record check on a valid record.
func (m *Manager) runRecordCheck(ctx context.Context, rec *Record) error {
	err := m.cfg.recordCheck(ctx, rec)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrLoginRefused):
		return fmt.Errorf("session: validate: record check: %w", err)
	}
	return fmt.Errorf("session: validate: %w: %w", ErrRecordCheck, err)
}

// WithAfterIssue sets a function that [Manager.Issue] calls with the
// [Record] of each token it has issued (stored), before it returns the
// token: for an audit line ("user 42 logged in from app wx...") or a
// metric. It never sees the token; the record's session_key is there, as in
// every Record, and must not be logged (a Record's String and LogValue
// leave it out). It runs on the request's goroutine: keep it short, or hand
// the work to another goroutine. It cannot refuse the login. f gets its
// own copy of the record; it must be non-nil and safe for concurrent use.
func WithAfterIssue(f func(ctx context.Context, rec *Record)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("session: after-issue hook must not be nil")
		}
		c.afterIssue = f
		return nil
	}
}

// RequireSubject returns a handler that lets a request through to next only
// when its session has a subject ([Record.Subject]): the session of a user
// the application knows, not of an openid it has not bound to a user yet
// (a silent login by someone who has not given their phone number). A
// session without one is refused 403 {"error": "not_registered"} through
// the Manager's error handler ([WithErrorHandler]); the client asks the user
// to register (the phone-number button and [PhoneHandler]).
//
// Behind [Manager.Middleware] it uses the Record the middleware found;
// alone, it authenticates the request first as the middleware does (same
// refusals, and the Record is put into the request's context), so
//
//	mux.Handle("/api/orders", sessions.RequireSubject(orders))
//
// needs no Middleware around it.
func (m *Manager) RequireSubject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.err != nil || next == nil {
			err := m.err
			if err == nil {
				err = errors.New("session: require subject: nil next handler")
			}
			m.refuse(w, r, "require subject", serverError(err))
			return
		}
		rec, ok := FromContext(r.Context())
		if !ok {
			var e *HTTPError
			if rec, e = m.Authenticate(r); e != nil {
				m.refuseToken(w, r, "require subject", e)
				return
			}
			r = r.WithContext(NewContext(r.Context(), rec))
		}
		if rec.Subject == "" {
			m.refuse(w, r, "require subject", notRegistered())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// notRegistered is the refusal of [Manager.RequireSubject] for a session
// without a subject.
func notRegistered() *HTTPError {
	return &HTTPError{Status: http.StatusForbidden, Code: CodeNotRegistered,
		Message: "the user is not registered: register (bind a phone number) first"}
}
