package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/wxmp/miniauth"
)

// DefaultUserAgent is the User-Agent of every request unless
// [Config.UserAgent] says otherwise.
const DefaultUserAgent = "miniauth (+https://github.com/wxmp/miniauth) go-resty/" + resty.Version

// Defaults of the request loop, which the platforms' options document.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultRetries      = 2
	DefaultBackoffBase  = 100 * time.Millisecond
	DefaultBackoffLimit = 2 * time.Second
	// MaxRetries is the most retries a Client makes.
	MaxRetries = 10
)

// Config is what a platform client builds its [Client] from, once, in its
// constructor. The zero value of an optional field takes its default.
type Config struct {
	// Package is the platform package's name, the prefix of every error
	// and log message ("wxauth"). Required.
	Package string
	// Upstream names the platform in messages ("wechat"). Required.
	Upstream string
	// Platform is the platform an [Observer] is told of; empty: Upstream,
	// when it names a known platform.
	//
	// [Observer]: https://pkg.go.dev/github.com/wxmp/miniauth#Observer
	Platform miniauth.Platform
	// Observer, when not nil, is told of each call, each of its HTTP
	// requests and each token refresh (see miniauth.Observer). Without
	// one, a call does nothing more than test this field.
	Observer *miniauth.Observer
	// HTTPClient is the client requests go through. It is copied, never
	// modified (resty mutates the client it is given); a nil client or
	// Transport gets [DefaultTransport]. Redirects are never followed
	// whatever its CheckRedirect says: a redirect would carry the query's
	// secrets to another address.
	HTTPClient *http.Client
	// Timeout bounds each attempt (default [DefaultTimeout]); the call's
	// context bounds the whole call.
	Timeout time.Duration
	// Retries is how many times a failed request is retried (0 to
	// [MaxRetries]; zero: none). Retried are a connection that could not
	// be made, an HTTP 5xx and a reply whose [Reply.Err] says so; never a
	// timeout (the request may have reached the platform).
	Retries int
	// BackoffBase and BackoffLimit set the wait between retries: with
	// c = min(limit, base * 2^n), the n-th retry waits c/2 plus a random
	// time up to c/2 (defaults [DefaultBackoffBase], [DefaultBackoffLimit]).
	BackoffBase, BackoffLimit time.Duration
	// Logger receives a line per request, retry and failure at Debug and
	// Warn (default: none). Lines carry the Op, attempt, status and error
	// text; never a URL, a body or a secret.
	Logger *slog.Logger
	// UserAgent is the User-Agent header (default [DefaultUserAgent]).
	UserAgent string
	// Secrets are values that no error or log line of any call may show:
	// the app secret. Each call's [Request.Secrets] are added.
	Secrets []string
	// ErrBadResponse is the platform's sentinel for a reply that cannot be
	// used: [ReplyError] and the default [StatusError] match it. Required.
	ErrBadResponse error
	// StatusError, when set, builds the error of a reply whose HTTP status
	// is not 200 (wxauth's *StatusError); by default it is a [StatusError].
	StatusError func(op string, status int) error
}

// Client is the request loop every platform client drives: timeouts,
// retries with backoff, body limits, redaction, logging. Build it once with
// [New]; it is safe for concurrent use.
type Client struct {
	cfg  Config
	http *resty.Client
	// hc is http's *http.Client, as resty configured it (no redirects),
	// and header the headers resty adds to every request: what a request
	// without a body is sent with (see [Client.send]).
	hc     *http.Client
	header http.Header
	// bufs holds the buffers reply bodies are read into. A buffer is
	// reused once its reply is decoded (see [Reply]).
	bufs *sync.Pool
	// Log messages, made once: "wxauth: retrying", ...
	msgRetrying, msgFailed, msgRequest, msgAPIError string
}

// New checks cfg and returns a Client built from it. An error means a
// programmer's mistake in the platform package, such as a missing name.
func New(cfg Config) (*Client, error) {
	if cfg.Package == "" || cfg.Upstream == "" {
		return nil, errors.New("engine: config needs a Package and an Upstream name")
	}
	if cfg.ErrBadResponse == nil {
		return nil, fmt.Errorf("%s: engine config needs an ErrBadResponse sentinel", cfg.Package)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.BackoffBase == 0 && cfg.BackoffLimit == 0 {
		cfg.BackoffBase, cfg.BackoffLimit = DefaultBackoffBase, DefaultBackoffLimit
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("%s: timeout must be positive", cfg.Package)
	case cfg.Retries < 0 || cfg.Retries > MaxRetries:
		return nil, fmt.Errorf("%s: retries must be between 0 and %d", cfg.Package, MaxRetries)
	case cfg.BackoffBase <= 0 || cfg.BackoffLimit < cfg.BackoffBase:
		return nil, fmt.Errorf("%s: backoff base must be positive and not above its limit", cfg.Package)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if p := miniauth.Platform(cfg.Upstream); cfg.Platform == "" && p.Known() {
		cfg.Platform = p
	}
	if cfg.StatusError == nil {
		pkg, sentinel := cfg.Package, cfg.ErrBadResponse
		cfg.StatusError = func(op string, status int) error {
			return &StatusError{Package: pkg, Op: op, StatusCode: status, Sentinel: sentinel}
		}
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient // resty mutates the client it is given: hand it a copy
	}
	if hc.Transport == nil {
		hc.Transport = DefaultTransport()
	}
	cfg.HTTPClient = nil // not kept: hc is the one used
	rc := resty.NewWithClient(&hc).
		SetRedirectPolicy(resty.NoRedirectPolicy()).
		SetRetryCount(0). // retries are done here, where they cannot log the URL
		SetDebug(false).
		SetDisableWarn(true).
		SetLogger(discardLogger{}).
		SetResponseBodyLimit(MaxBodyLen).
		// Headers of every request, set once here rather than on each.
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", cfg.UserAgent)
	p := cfg.Package
	return &Client{
		cfg: cfg, http: rc, hc: rc.GetClient(), header: rc.Header.Clone(), bufs: newBufPool(),
		msgRetrying: p + ": retrying", msgFailed: p + ": request failed",
		msgRequest: p + ": request", msgAPIError: p + ": api error",
	}, nil
}

// Do performs req, with retries, and decodes the reply into out. It
// returns nil when out holds a successful reply, and otherwise the error
// of the last attempt: out's [Reply.Err] for a reply that says it failed,
// Config.StatusError for an HTTP status other than 200, a [ReplyError] for
// a reply that cannot be decoded or is over [MaxBodyLen], and for a request
// that got no reply an error whose text is scrubbed of every secret and
// whose *url.Error is a redacted copy that still unwraps to its cause
// (context.DeadlineExceeded, *net.OpError).
//
// A retry waits its backoff, unless the wait would pass ctx's deadline:
// the last error is then returned at once.
func (c *Client) Do(ctx context.Context, req Request, out Reply) error {
	if o := c.cfg.Observer; o != nil {
		return c.observedDo(ctx, &req, out, o)
	}
	return c.do(ctx, &req, out, nil)
}

// do is [Client.Do], telling call (when not nil) of each HTTP request.
func (c *Client) do(ctx context.Context, req *Request, out Reply, call *miniauth.Call) error {
	var err error
	for attempt := 0; ; attempt++ {
		var retry bool
		retry, err = c.attempt(ctx, req, out, call)
		if err == nil || !retry || attempt >= c.cfg.Retries {
			break
		}
		wait := c.backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break
		}
		c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, c.msgRetrying,
			slog.String("op", req.Op), slog.Int("attempt", attempt+1),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %s: %w (after %w)", c.cfg.Package, req.Op, ctx.Err(), err)
		case <-t.C:
		}
	}
	return err
}

// secretsOf returns the values no error or log line about req may show. It
// is called on failures only, so that a success allocates nothing for it.
func (c *Client) secretsOf(req *Request) []string {
	s := make([]string, 0, len(c.cfg.Secrets)+len(req.Secrets))
	return append(append(s, c.cfg.Secrets...), req.Secrets...)
}

// backoff returns the wait before retry number attempt+1: equal jitter
// under an exponential ceiling.
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.cfg.BackoffBase << attempt
	if ceil <= 0 || ceil > c.cfg.BackoffLimit {
		ceil = c.cfg.BackoffLimit
	}
	// Equal jitter: half the ceiling, plus a random part of the other half.
	// The floor keeps retries from bunching up; the jitter spreads a fleet.
	half := ceil / 2
	return half + rand.N(ceil-half) + 1
}

// attemptContext returns the context of one attempt: ctx bounded by the
// per-attempt timeout, or ctx itself when its own deadline comes first.
func (c *Client) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.cfg.Timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// attempt makes one request. It reports whether a failure may be retried.
//
// The request goes through resty with response parsing off: the body is
// read here, under [MaxBodyLen], into a buffer the Client reuses, and
// decoded whatever the Content-Type says (WeChat serves JSON as
// text/plain).
func (c *Client) attempt(ctx context.Context, req *Request, out Reply, call *miniauth.Call) (retry bool, err error) {
	actx, cancel := c.attemptContext(ctx)
	defer cancel()
	if call != nil {
		call.Attempts++
		call.Status = 0
		defer c.observeRequest(ctx, call, time.Now(), &err)
	}
	start := time.Now()
	resp, err := c.send(actx, req)
	var body []byte
	if err == nil {
		if call != nil {
			call.Status = resp.StatusCode
		}
		buf := c.bufs.Get().(*[]byte)
		defer c.bufs.Put(buf)
		body, err = readBody(resp.Body, buf)
		_ = resp.Body.Close()
	}
	log := c.cfg.Logger
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			err = c.BadReply(req.Op, fmt.Sprintf("over %d bytes", MaxBodyLen))
		} else {
			retry = isDialError(err) && ctx.Err() == nil
			err = transportError(c.cfg.Package, req.Op, err, c.secretsOf(req))
		}
		log.LogAttrs(ctx, slog.LevelDebug, c.msgFailed, slog.String("op", req.Op),
			slog.Duration("took", time.Since(start)), slog.String("error", err.Error()))
		return retry, err
	}
	status := resp.StatusCode
	log.LogAttrs(ctx, slog.LevelDebug, c.msgRequest, slog.String("op", req.Op),
		slog.Int("status", status), slog.Duration("took", time.Since(start)))
	if status != http.StatusOK {
		if req.ErrorStatus && status >= 400 && status < 500 {
			// An OAuth-style endpoint says why in a 4xx's body: its error
			// when the body says it failed, the status otherwise.
			if Decode(body, out) == nil && out.Failed() {
				return c.replyErr(ctx, req, out)
			}
		}
		return status >= 500, c.cfg.StatusError(req.Op, status)
	}
	if err := Decode(body, out); err != nil {
		why := "not a JSON object"
		var m *malformedErr
		if errors.As(err, &m) {
			why = m.why
		}
		return false, c.BadReply(req.Op, why)
	}
	if !out.Failed() {
		return false, nil
	}
	return c.replyErr(ctx, req, out)
}

// send sends req and returns its response, whose body the caller reads
// and closes.
//
// A request with a body (JSON or a form) goes through resty, which encodes
// it. A request without one, such as code2session on every platform that
// serves it with GET (the call each login makes), is built here from its
// URL and the Client's headers and sent through the same *http.Client
// resty was configured with (its transport and its redirect policy):
// resty's per-request middleware parses the URL twice, merges the headers
// and copies the request: 13 allocations and about 3 µs of a 50 µs
// loopback call (BenchmarkCode2Session in wxauth).
func (c *Client) send(ctx context.Context, req *Request) (*http.Response, error) {
	if req.JSON == nil && req.Form == nil {
		hr, err := http.NewRequestWithContext(ctx, req.Method, req.url(), nil)
		if err != nil {
			return nil, err
		}
		// A map of its own, so that a RoundTripper that sets a header in
		// place touches this request only. The values are shared, read
		// only: Header.Clone gave each slice its length as capacity, so
		// an Add appends to a copy.
		for k, v := range c.header {
			hr.Header[k] = v
		}
		for k, v := range req.Header {
			hr.Header.Set(k, v)
		}
		return c.hc.Do(hr)
	}
	r := c.http.R().SetContext(ctx).SetDoNotParseResponse(true)
	if req.JSON != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(req.JSON)
	} else {
		r.SetFormDataFromValues(req.Form)
	}
	if len(req.Header) > 0 {
		r.SetHeaders(req.Header)
	}
	resp, err := r.Execute(req.Method, req.url())
	if err != nil {
		return nil, err
	}
	return resp.RawResponse, nil
}

// replyErr returns the error of a reply that says it failed, and whether
// the call may be retried.
func (c *Client) replyErr(ctx context.Context, req *Request, out Reply) (retry bool, err error) {
	retry, err = out.Err(req.Op, Scrubber{secrets: c.secretsOf(req)})
	if err == nil {
		// A dialect that says "failed" owes an error; never let a failed
		// reply pass for a success.
		err = c.BadReply(req.Op, "an error without details")
	}
	c.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, c.msgAPIError, slog.String("op", req.Op),
		slog.String("error", err.Error()))
	return retry, err
}

// discardLogger keeps resty silent: its warnings and errors can carry URLs.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
