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
// single-use code was kept because the store was known to be down), and
// of each outage of the session store ([miniauth.Observer.Outage]: when it
// stops answering and when it answers again). Package
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
		l.CodeKept = errors.Is(e.Err, errKnownDown)
	}
	o.Login(ctx, l)
}

// observeOutage tells the observer, if any, that the store went down
// (down) or answers again after an outage of d, with refused calls failed
// or refused meanwhile.
func (m *Manager) observeOutage(ctx context.Context, op string, down bool, d time.Duration, refused int) {
	o := m.cfg.observer
	if o == nil || o.Outage == nil {
		return
	}
	o.Outage(ctx, &miniauth.Outage{Dependency: "session_store", Down: down, Op: op, Duration: d, Refused: refused})
}
