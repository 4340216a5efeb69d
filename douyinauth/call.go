package douyinauth

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

	"github.com/wxmp/miniauth/internal/redact"
)

// This file is the request loop of the package: timeouts, retries with
// backoff, the body limit and redaction, as wxauth's. It stands alone (one
// entry point, do) so that it can give way to the shared engine of
// internal/engine once that is on main.

// maxBodyLen caps every reply body read from Douyin.
const maxBodyLen = 1 << 20

// request describes one call to a Douyin API. Every call is a POST of JSON.
type request struct {
	op     string // API name for errors and logs, e.g. "jscode2session"
	url    string // the full URL
	body   any    // the JSON body
	header map[string]string
	// secrets are values that must never reach an error or a log line.
	secrets []string
}

// reply is a decoded reply of one of Douyin's three envelopes.
type reply interface {
	// status returns the reply's error code (0: success), its message and
	// its log id.
	status() (code int64, msg, logID string)
}

// errNo decodes an error code sent as a JSON number or a numeric string.
type errNo int64

func (c *errNo) UnmarshalJSON(b []byte) error {
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
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return errors.New("error code is not an integer")
	}
	*c = errNo(n)
	return nil
}

// tipsReply is developer.toutiao.com's api/apps/v2 envelope:
// {err_no, err_tips, log_id?, data}.
type tipsReply struct {
	ErrNo   errNo  `json:"err_no"`
	ErrTips string `json:"err_tips"`
	LogID   string `json:"log_id"`
}

func (r *tipsReply) status() (int64, string, string) { return int64(r.ErrNo), r.ErrTips, r.LogID }

// msgReply is open.douyin.com's api/apps/v1 envelope: {err_no, err_msg,
// log_id, data}.
type msgReply struct {
	ErrNo  errNo  `json:"err_no"`
	ErrMsg string `json:"err_msg"`
	LogID  string `json:"log_id"`
}

func (r *msgReply) status() (int64, string, string) { return int64(r.ErrNo), r.ErrMsg, r.LogID }

// do performs req with retries and decodes the reply into out. It returns an
// *APIError for a non-zero error code.
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
		a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "douyinauth: retrying",
			slog.String("op", req.op), slog.Int("attempt", attempt+1),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("douyinauth: %s: %w (after %w)", req.op, ctx.Err(), err)
		case <-t.C:
		}
	}
	return err
}

// backoff returns the wait before retry number attempt+1: equal jitter
// under an exponential ceiling.
func (a *App) backoff(attempt int) time.Duration {
	ceil := a.cfg.backoffBase << attempt
	if ceil <= 0 || ceil > a.cfg.backoffLimit {
		ceil = a.cfg.backoffLimit
	}
	half := ceil / 2
	return half + rand.N(ceil-half) + 1
}

// secretsOf returns the values no error or log line about req may show.
func (a *App) secretsOf(req *request) []string {
	return append([]string{a.secret}, req.secrets...)
}

// attempt makes one request. It reports whether a failure may be retried.
func (a *App) attempt(ctx context.Context, req *request, out reply) (retry bool, err error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > a.cfg.timeout {
		actx, cancel = context.WithTimeout(ctx, a.cfg.timeout)
	}
	defer cancel()
	r := a.http.R().SetContext(actx).SetDoNotParseResponse(true).
		SetHeader("Content-Type", "application/json").SetBody(req.body)
	for k, v := range req.header {
		r.SetHeader(k, v)
	}
	start := time.Now()
	resp, err := r.Execute(http.MethodPost, req.url)
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
		log.LogAttrs(ctx, slog.LevelDebug, "douyinauth: request failed", slog.String("op", req.op),
			slog.Duration("took", time.Since(start)), slog.String("error", err.Error()))
		return retry, err
	}
	status := resp.RawResponse.StatusCode
	log.LogAttrs(ctx, slog.LevelDebug, "douyinauth: request", slog.String("op", req.op),
		slog.Int("status", status), slog.Duration("took", time.Since(start)))
	if status != http.StatusOK {
		return status >= 500, &statusError{op: req.op, status: status}
	}
	reflect.ValueOf(out).Elem().SetZero() // nothing of an earlier attempt survives
	if json.Unmarshal(body, out) != nil {
		return false, badReply(req.op, "not a JSON object of the expected shape")
	}
	if code, msg, logID := out.status(); code != 0 {
		log.LogAttrs(ctx, slog.LevelDebug, "douyinauth: api error", slog.String("op", req.op),
			slog.Int64("code", code))
		return retryable(req.op, code), newAPIError(req.op, code, msg, logID, a.secretsOf(req))
	}
	return false, nil
}

// errBodyTooLarge is readBody's error for a body over maxBodyLen.
var errBodyTooLarge = errors.New("douyinauth: reply body too large")

// readBody reads r to its end, or fails with errBodyTooLarge past
// maxBodyLen bytes.
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

// transportError wraps a failed request's error with its URL redacted and
// known secrets scrubbed. The cause stays reachable with errors.Is and
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

// transportErr is a request that failed before Douyin answered.
type transportErr struct {
	op  string
	msg string
	err error
}

func (e *transportErr) Error() string { return "douyinauth: " + e.op + ": request failed: " + e.msg }

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
