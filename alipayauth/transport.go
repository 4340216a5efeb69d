package alipayauth

// The request loop of this package: one form POST with a per-attempt
// timeout, retries with backoff, a body limit and redaction. It is the one
// place that does HTTP, so that it can be switched to the shared engine
// (internal/engine) as a dialect: Code2Session only builds a form and
// decodes a reply.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wxmp/miniauth/internal/redact"
)

// maxBodyLen caps every reply body read from Alipay.
const maxBodyLen = 1 << 20

// userAgent is the User-Agent of every request.
const userAgent = "miniauth (+https://github.com/wxmp/miniauth)"

// Connection pool of the default transport, as package wxauth sizes it.
const (
	maxIdleConnsPerHost = 100
	idleConnTimeout     = 90 * time.Second
)

// newHTTPClient returns the client requests go through: a copy of hc (or a
// new one), with the default transport when it has none, never following a
// redirect.
func newHTTPClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	if c.Transport == nil {
		c.Transport = defaultTransport()
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// defaultTransport is a clone of http.DefaultTransport with an idle pool
// sized for concurrent calls (see wxauth.WithHTTPClient).
func defaultTransport() *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t.MaxIdleConns = maxIdleConnsPerHost
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.IdleConnTimeout = idleConnTimeout
	t.ForceAttemptHTTP2 = true
	return t
}

// exchange is one call: a form POST to path and the decoding of its reply.
type exchange struct {
	op   string // API name for errors and logs
	path string
	form string // the encoded body (may carry secrets)
	// secrets are values no error or log line may show.
	secrets []string
	// handle decodes a reply of HTTP status 200 and reports whether a
	// failure may be retried.
	handle func(body []byte) (retry bool, err error)
}

// post performs x with retries.
func (a *App) post(ctx context.Context, x exchange) error {
	var err error
	for attempt := 0; ; attempt++ {
		var retry bool
		retry, err = a.attempt(ctx, &x)
		if err == nil || !retry || attempt >= a.cfg.retries {
			return err
		}
		wait := a.backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err
		}
		a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "alipayauth: retrying",
			slog.String("op", x.op), slog.Int("attempt", attempt+1),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("alipayauth: %s: %w (after %w)", x.op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// backoff returns the wait before retry attempt+1: equal jitter under an
// exponential ceiling.
func (a *App) backoff(attempt int) time.Duration {
	ceil := a.cfg.backoffBase << attempt
	if ceil <= 0 || ceil > a.cfg.backoffLimit {
		ceil = a.cfg.backoffLimit
	}
	half := ceil / 2
	return half + rand.N(ceil-half) + 1
}

// attempt makes one request and reports whether its failure may be retried.
func (a *App) attempt(ctx context.Context, x *exchange) (retry bool, err error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > a.cfg.timeout {
		actx, cancel = context.WithTimeout(ctx, a.cfg.timeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, a.cfg.baseURL+x.path, strings.NewReader(x.form))
	if err != nil {
		return false, transportError(x.op, err, x.secrets)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	start := time.Now()
	log := a.cfg.logger
	resp, err := a.http.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxBodyLen+1))
		_ = resp.Body.Close()
	}
	if err != nil {
		retry = isDialError(err) && ctx.Err() == nil
		err = transportError(x.op, err, x.secrets)
		log.LogAttrs(ctx, slog.LevelDebug, "alipayauth: request failed", slog.String("op", x.op),
			slog.Duration("took", time.Since(start)), slog.String("error", err.Error()))
		return retry, err
	}
	log.LogAttrs(ctx, slog.LevelDebug, "alipayauth: request", slog.String("op", x.op),
		slog.Int("status", resp.StatusCode), slog.Duration("took", time.Since(start)))
	if len(body) > maxBodyLen {
		return false, badReply(x.op, fmt.Sprintf("over %d bytes", maxBodyLen))
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode >= 500, &StatusError{Op: x.op, StatusCode: resp.StatusCode}
	}
	return x.handle(body)
}

// isDialError reports whether err is a failure to connect, after which the
// request was certainly not sent and a retry is safe.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transportError wraps a failed request's error with its URL redacted and
// known secrets scrubbed; the cause stays reachable with errors.Is and
// errors.As (context.DeadlineExceeded, *net.OpError).
func transportError(op string, err error, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{
			Op:  ue.Op,
			URL: redact.Strings(redact.URL(ue.URL), secrets...),
			Err: &scrubbedErr{msg: redact.Strings(ue.Err.Error(), secrets...), orig: ue.Err},
		}
	}
	return &transportErr{op: op, msg: redact.Strings(err.Error(), secrets...), err: err}
}

// transportErr is a request that failed before Alipay answered.
type transportErr struct {
	op  string
	msg string
	err error
}

func (e *transportErr) Error() string { return "alipayauth: " + e.op + ": request failed: " + e.msg }

func (e *transportErr) Unwrap() error { return e.err }

// scrubbedErr is a cause with its text scrubbed, still matching the cause
// under errors.Is and errors.As.
type scrubbedErr struct {
	msg  string
	orig error
}

func (e *scrubbedErr) Error() string { return e.msg }

func (e *scrubbedErr) Is(target error) bool { return errors.Is(e.orig, target) }

func (e *scrubbedErr) As(target any) bool { return errors.As(e.orig, target) }
