package qqauth

// This file is the client's request loop: timeouts, retries with backoff, the
// body limit and redaction, built like package wxauth's. It is the one place
// that sends requests, kept apart so that it can move onto the shared engine
// (internal/engine) without touching the rest of the package.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/wxmp/miniauth/internal/redact"
)

// maxBodyLen caps every reply body read from QQ.
const maxBodyLen = 1 << 20

// userAgent is the User-Agent of every request.
const userAgent = "miniauth (+https://github.com/wxmp/miniauth) go-resty/" + resty.Version

// request is one call to QQ's API.
type request struct {
	op     string     // API name for errors and logs
	method string     // http.MethodGet or http.MethodPost
	path   string     // such as "/sns/jscode2session"
	query  url.Values // query parameters (may carry secrets)
	// secrets are values of this request that must never reach an error or
	// a log line (the code, a token); the app secret is always one.
	secrets []string
}

// reply is a decoded reply: it says whether QQ reported an error.
type reply interface {
	apiStatus() (code int, msg string)
}

// baseReply holds the errcode and errmsg every reply may carry.
type baseReply struct {
	ErrCode errCode `json:"errcode"`
	ErrMsg  string  `json:"errmsg"`
}

func (r *baseReply) apiStatus() (int, string) { return int(r.ErrCode), r.ErrMsg }

// errCode decodes an errcode sent as a JSON number or a numeric string.
type errCode int

func (c *errCode) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*c = 0
			return nil
		}
		b = []byte(s)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return errors.New("errcode is not an integer")
	}
	*c = errCode(n)
	return nil
}

// newHTTP returns the resty client of an App: a copy of hc (or a default
// pooled transport), no redirects, resty's own retries and logs off.
func newHTTP(hc *http.Client) *resty.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	if c.Transport == nil {
		c.Transport = defaultTransport()
	}
	return resty.NewWithClient(&c).
		SetRedirectPolicy(resty.NoRedirectPolicy()).
		SetRetryCount(0).
		SetDebug(false).
		SetDisableWarn(true).
		SetLogger(discardLogger{}).
		SetResponseBodyLimit(maxBodyLen).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", userAgent)
}

// defaultTransport is a clone of http.DefaultTransport with an idle pool
// sized for concurrent calls (100 per host, 90 s), as wxauth's.
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
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 100
	t.IdleConnTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	return t
}

// do performs req with retries and decodes the reply into out. A non-zero
// errcode is an [*APIError].
func (a *App) do(ctx context.Context, req request, out reply) error {
	var err error
	for attempt := 0; ; attempt++ {
		var retry bool
		retry, err = a.attempt(ctx, &req, out)
		if err == nil || !retry || attempt >= a.cfg.retries {
			break
		}
		wait := a.backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break
		}
		a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "qqauth: retrying",
			slog.String("op", req.op), slog.Int("attempt", attempt+1),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("qqauth: %s: %w (after %w)", req.op, ctx.Err(), err)
		case <-t.C:
		}
	}
	return err
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
func (a *App) attempt(ctx context.Context, req *request, out reply) (retry bool, err error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > a.cfg.timeout {
		actx, cancel = context.WithTimeout(ctx, a.cfg.timeout)
	}
	defer cancel()
	u := a.cfg.baseURL + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	start := time.Now()
	resp, err := a.http.R().SetContext(actx).SetDoNotParseResponse(true).Execute(req.method, u)
	var body []byte
	if err == nil {
		body, err = readBody(resp.RawResponse.Body)
		_ = resp.RawResponse.Body.Close()
	}
	log := a.cfg.logger
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			err = badReply(req.op, fmt.Sprintf("over %d bytes", maxBodyLen))
		} else {
			retry = isDialError(err) && ctx.Err() == nil
			err = transportError(req.op, err, a.secretsOf(req))
		}
		log.LogAttrs(ctx, slog.LevelDebug, "qqauth: request failed", slog.String("op", req.op),
			slog.Duration("took", time.Since(start)), slog.String("error", err.Error()))
		return retry, err
	}
	status := resp.RawResponse.StatusCode
	log.LogAttrs(ctx, slog.LevelDebug, "qqauth: request", slog.String("op", req.op),
		slog.Int("status", status), slog.Duration("took", time.Since(start)))
	if status != http.StatusOK {
		return status >= 500, &StatusError{Op: req.op, StatusCode: status}
	}
	reflect.ValueOf(out).Elem().SetZero()
	if json.Unmarshal(body, out) != nil {
		return false, badReply(req.op, "not a JSON object")
	}
	if code, msg := out.apiStatus(); code != 0 {
		log.LogAttrs(ctx, slog.LevelDebug, "qqauth: api error", slog.String("op", req.op), slog.Int("errcode", code))
		return code == -1, newAPIError(req.op, code, msg, a.secretsOf(req)...)
	}
	return false, nil
}

// secretsOf returns what no error about req may show.
func (a *App) secretsOf(req *request) []string {
	return append([]string{a.secret}, req.secrets...)
}

var errBodyTooLarge = errors.New("qqauth: reply body too large")

// readBody reads r to its end, or fails past maxBodyLen bytes.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodyLen+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodyLen {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// isDialError reports whether err is a failure to connect, after which the
// request was certainly not sent and a retry is safe.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transportError wraps a failed request's error with its URL redacted; the
// cause stays reachable with errors.Is and errors.As.
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

// transportErr is a request that failed before QQ answered, its text
// scrubbed of known secrets.
type transportErr struct {
	op  string
	msg string
	err error
}

func (e *transportErr) Error() string { return "qqauth: " + e.op + ": request failed: " + e.msg }

func (e *transportErr) Unwrap() error { return e.err }

// scrubbedErr is a cause with its text scrubbed; errors.Is and errors.As
// still reach the original.
type scrubbedErr struct {
	msg  string
	orig error
}

func (e *scrubbedErr) Error() string { return e.msg }

func (e *scrubbedErr) Is(target error) bool { return errors.Is(e.orig, target) }

func (e *scrubbedErr) As(target any) bool { return errors.As(e.orig, target) }

// discardLogger keeps resty silent: its lines can carry URLs.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
