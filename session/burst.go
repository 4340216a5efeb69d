package session

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wxmp/miniauth/wxauth"
)

// burstGap is the quiet time that ends a burst of one failure (see burst).
const burstGap = time.Minute

// CodeServiceBusy (503): WeChat refused a call the login needs for a limit
// of the whole app, not of the user (errcode 45011 on stable_token, token
// or getuserphonenumber): nothing the user does helps; try again in a
// minute. Logged at Error once a burst.
const CodeServiceBusy = "service_busy"

// burst logs a failure that needs an operator at Error once a burst: the
// first of a run of them whose gaps are under burstGap, with the number of
// the previous burst; the rest at Debug.
type burst struct {
	mu    sync.Mutex
	last  time.Time
	count int // in the current burst
}

// log logs msg for one occurrence.
func (b *burst) log(ctx context.Context, m *Manager, msg string, attrs ...slog.Attr) {
	now := m.cfg.now()
	b.mu.Lock()
	first := b.last.IsZero() || now.Sub(b.last) >= burstGap
	prev := b.count
	if first {
		b.count = 0
	}
	b.count++
	b.last = now
	b.mu.Unlock()
	level := slog.LevelDebug
	if first {
		level = slog.LevelError
		if prev > 0 {
			attrs = append(attrs, slog.Int("previousBurst", prev))
		}
	}
	m.cfg.logger.LogAttrs(context.WithoutCancel(ctx), level, msg, attrs...)
}

// appRateLimited reports whether err is WeChat's 45011 on a call of the
// app rather than of the user: the user's rate limit is code2session's.
func appRateLimited(err error) bool {
	var ae *wxauth.APIError
	return errors.Is(err, wxauth.ErrRateLimited) && errors.As(err, &ae) && ae.Op != "code2session"
}

// phoneCodeForeign reports whether err is getuserphonenumber's 40013: the
// phone code was made for another appid, or the access token the call
// carried is another app's (a [wxauth.WithTokenSource] serving the wrong
// app's token). The errcode cannot tell the two apart.
func phoneCodeForeign(err error) bool {
	var ae *wxauth.APIError
	return errors.As(err, &ae) && ae.Code == 40013 && errors.Is(err, wxauth.ErrInvalidPhoneCode)
}

// wechatFault is the answer to a WeChat error that is the app's fault, not
// the user's, logged at Error once a burst; nil for other errors.
func (m *Manager) wechatFault(ctx context.Context, op string, err error) *HTTPError {
	if m.guard == nil { // a Manager whose options failed
		return nil
	}
	switch {
	case appRateLimited(err):
		m.guard.rateLimited.log(ctx, m, "session: WeChat's rate limit of the app (errcode 45011): logins that need it are refused 503 service_busy",
			slog.String("op", op), slog.String("error", err.Error()))
		return &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeServiceBusy,
			Message: "the service is busy: try again in a minute", Err: err}
	case phoneCodeForeign(err):
		m.guard.foreignPhone.log(ctx, m, "session: getuserphonenumber errcode 40013: a phone code of another app, or an access token of another app (check WithTokenSource); every retry is another billed press",
			slog.String("op", op), slog.String("error", err.Error()))
	}
	return nil
}
