package session

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
)

// WithObserver tells o of the outcome of every request to [LoginHandler]
// and [PhoneHandler] built on the Manager ([miniauth.Observer.Login]:
// 200, or the refusal's status and machine code, and whether the
// single-use code was kept because a dependency was known to be down), and
// of each outage of a login-path dependency ([miniauth.Observer.Outage]:
// the session store, and the dependencies of the login hook it guards, such
// as the account store; when one stops answering and when it answers
// again). Package
// github.com/wxmp/miniauth/otel builds one that records them with
// OpenTelemetry. Without it, a request costs nothing more than a nil test.
func WithObserver(o *miniauth.Observer) Option {
	return func(c *config) error {
		if o == nil {
			return errors.New("session: observer must not be nil")
		}
		c.observer = o
		return nil
	}
}

// Outcome of a login that was answered 200, as [miniauth.Login] says it.
const outcomeOK = "ok"

// observeLogin tells the observer, if any, of the outcome of a request to
// the login or phone handler: e is its refusal, nil for a 200 of platform p.
func (m *Manager) observeLogin(ctx context.Context, op string, p miniauth.Platform, e *HTTPError) {
	o := m.cfg.observer
	if o == nil || o.Login == nil {
		return
	}
	l := &miniauth.Login{Platform: p, Op: op, Status: http.StatusOK, Outcome: outcomeOK}
	if e != nil {
		l.Status, l.Outcome = e.Status, e.Code
		var kept codeKept
		l.CodeKept = errors.As(e.Err, &kept)
	}
	o.Login(ctx, l)
}

// storeDependency names the session store to an observer, as the guard's
// dependencies are named ("account store", "login hook").
const storeDependency = "session store"

// observeOutage tells the observer, if any, that the dependency dep went
// down (down) or answers again after an outage of d, with refused calls
// failed or logins refused meanwhile. op is the call that saw it, if any.
func (m *Manager) observeOutage(ctx context.Context, dep, op string, down bool, d time.Duration, refused int) {
	o := m.cfg.observer
	if o == nil || o.Outage == nil {
		return
	}
	o.Outage(context.WithoutCancel(ctx), &miniauth.Outage{Dependency: dep, Down: down, Op: op, Duration: d, Refused: refused})
}

// codeKept marks the refusal of a login by the login gate because a
// dependency is down: its codes were not spent. Its text and what it
// matches are its cause's.
type codeKept struct{ error }

func (k codeKept) Unwrap() error { return k.error }

// gateError returns the login gate's error err, marked as having kept the
// login's codes when a dependency is down.
func gateError(err error) error {
	if errors.Is(err, ErrStoreUnavailable) {
		return codeKept{err}
	}
	return err
}
