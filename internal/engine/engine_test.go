package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/engine"
	"github.com/wxmp/miniauth/internal/testutil"
)

const (
	testSecret = "app-secret-0123456789abcdef"
	testCode   = "login-code-0123456789abcdef"
)

var errBad = errors.New("testauth: malformed reply")

// apiError is the test dialect's typed error.
type apiError struct {
	Op   string
	Code int
	Msg  string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("testauth: %s: code %d: %s", e.Op, e.Code, e.Msg)
}

// baseReply is the test dialect's envelope: code/msg, code 7 is "busy".
type baseReply struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func (r *baseReply) Failed() bool { return r.Code != 0 }

func (r *baseReply) Err(op string, s engine.Scrubber) (bool, error) {
	return r.Code == 7, &apiError{Op: op, Code: r.Code, Msg: s.Scrub(r.Msg)}
}

type userReply struct {
	baseReply
	OpenID string `json:"openid"`
}

// newClient returns a Client for tests, its logs in the returned buffer.
func newClient(t *testing.T, cfg engine.Config) (*engine.Client, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	if cfg.Package == "" {
		cfg.Package, cfg.Upstream = "testauth", "testplatform"
	}
	if cfg.ErrBadResponse == nil {
		cfg.ErrBadResponse = errBad
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase, cfg.BackoffLimit = time.Millisecond, 2*time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg.Secrets = append(cfg.Secrets, testSecret)
	c, err := engine.New(cfg)
	require.NoError(t, err)
	return c, logs
}

// server is a loopback platform answering with the replies in turn (the
// last one repeats), and recording each request.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []reply
	requests []*http.Request
	bodies   []string
}

type reply struct {
	status int
	body   string
	delay  time.Duration
}

func newServer(t *testing.T, replies ...reply) *server {
	t.Helper()
	s := &server{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, r)
		s.bodies = append(s.bodies, string(b))
		rep := s.replies[min(n, len(s.replies)-1)]
		s.mu.Unlock()
		if rep.delay > 0 {
			select {
			case <-time.After(rep.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func TestDoGetQuery(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply{200, `{"openid":"o1"}`, 0})
	c, _ := newClient(t, engine.Config{})
	var r userReply
	err := c.Do(context.Background(), engine.Request{
		Op: "login", Method: http.MethodGet, Base: srv.URL, Path: "/sns/login",
		Query:   map[string]string{"secret": testSecret, "code": testCode, "a b": "c&d"},
		Secrets: []string{testCode},
	}, &r)
	require.NoError(t, err)
	assert.Equal(t, "o1", r.OpenID)
	req := srv.requests[0]
	assert.Equal(t, "/sns/login", req.URL.Path)
	want := url.Values{"secret": {testSecret}, "code": {testCode}, "a b": {"c&d"}}.Encode()
	assert.Equal(t, want, req.URL.RawQuery, "sorted and escaped as url.Values.Encode")
	assert.Equal(t, engine.DefaultUserAgent, req.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", req.Header.Get("Accept"))
}

func TestDoBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		req       engine.Request
		wantType  string
		wantBody  string
		wantQuery string
	}{
		{"json", engine.Request{JSON: map[string]string{"appid": "a1", "code": testCode}},
			"application/json", `{"appid":"a1","code":"` + testCode + `"}`, ""},
		{"form", engine.Request{Form: url.Values{"app_id": {"a1"}, "js_code": {testCode}}},
			"application/x-www-form-urlencoded", "app_id=a1&js_code=" + testCode, ""},
		{"raw query", engine.Request{RawQuery: "x=1&y=2"}, "", "", "x=1&y=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, reply{200, `{}`, 0})
			c, _ := newClient(t, engine.Config{})
			req := tt.req
			req.Op, req.Method, req.Path = "op", http.MethodPost, srv.URL+"/p" // Base empty: Path is the URL
			req.Header = map[string]string{"access-token": "tok-0123456789"}
			var r userReply
			require.NoError(t, c.Do(context.Background(), req, &r))
			got := srv.requests[0]
			assert.Equal(t, http.MethodPost, got.Method)
			assert.Equal(t, "/p", got.URL.Path)
			assert.Equal(t, tt.wantQuery, got.URL.RawQuery)
			assert.True(t, strings.HasPrefix(got.Header.Get("Content-Type"), tt.wantType), got.Header.Get("Content-Type"))
			assert.Equal(t, tt.wantBody, strings.TrimSpace(srv.bodies[0]))
			assert.Equal(t, "tok-0123456789", got.Header.Get("Access-Token"))
		})
	}
}

func TestDoRetries(t *testing.T) {
	t.Parallel()
	ok := reply{200, `{"openid":"o1"}`, 0}
	tests := []struct {
		name     string
		retries  int
		replies  []reply
		wantReqs int
		check    func(t *testing.T, err error)
	}{
		{"5xx then success", 2, []reply{{502, "bad gateway", 0}, ok}, 2, func(t *testing.T, err error) { require.NoError(t, err) }},
		{"busy then success", 2, []reply{{200, `{"code":7,"msg":"busy"}`, 0}, ok}, 2, func(t *testing.T, err error) { require.NoError(t, err) }},
		{"busy until the retries run out", 2, []reply{{200, `{"code":7,"msg":"busy"}`, 0}}, 3, func(t *testing.T, err error) {
			var ae *apiError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 7, ae.Code)
		}},
		{"a refusal is not retried", 2, []reply{{200, `{"code":40029,"msg":"bad code"}`, 0}, ok}, 1, func(t *testing.T, err error) {
			var ae *apiError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 40029, ae.Code)
		}},
		{"a 4xx is not retried", 2, []reply{{404, "no", 0}, ok}, 1, func(t *testing.T, err error) {
			var se *engine.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 404, se.StatusCode)
			assert.ErrorIs(t, err, errBad)
			assert.Equal(t, "testauth: login: http status 404", err.Error())
		}},
		{"no retries", 0, []reply{{503, "", 0}, ok}, 1, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, errBad)
		}},
		{"a redirect is not followed", 2, []reply{{302, "", 0}, ok}, 1, func(t *testing.T, err error) {
			var se *engine.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 302, se.StatusCode)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.replies...)
			c, _ := newClient(t, engine.Config{Retries: tt.retries})
			var r userReply
			err := c.Do(context.Background(), engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL, Path: "/x"}, &r)
			tt.check(t, err)
			assert.Equal(t, tt.wantReqs, srv.count())
		})
	}
}

// TestDoScrubsReplyText: the Scrubber a reply gets removes the Client's
// and the Request's secrets from text the reply echoes.
func TestDoScrubsReplyText(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply{200, `{"code":40013,"msg":"bad secret ` + testSecret + ` for code ` + testCode + `"}`, 0})
	c, logs := newClient(t, engine.Config{})
	var r userReply
	err := c.Do(context.Background(), engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL, Secrets: []string{testCode}}, &r)
	require.Error(t, err)
	assert.Equal(t, "testauth: login: code 40013: bad secret REDACTED for code REDACTED", err.Error())
	assert.NotContains(t, logs.String(), testSecret)
	assert.NotContains(t, logs.String(), testCode)
}

// TestDoDialErrorRetriedAndRedacted: a connection that cannot be made is
// retried, and its error shows neither the secret in the query nor the
// code, while still unwrapping to the *net.OpError.
func TestDoDialErrorRetriedAndRedacted(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	// A request without a body (built by the engine) and one with a form
	// (built by resty): both paths redact.
	for _, form := range []url.Values{nil, {"js_code": {testCode}}} {
		c, logs := newClient(t, engine.Config{Retries: 2})
		var r userReply
		err = c.Do(context.Background(), engine.Request{
			Op: "login", Method: http.MethodGet, Base: "http://" + addr, Path: "/p/" + testCode,
			Query: map[string]string{"secret": testSecret, "js_code": testCode}, Form: form, Secrets: []string{testCode},
		}, &r)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "testauth: login: request failed: "), err.Error())
		var op *net.OpError
		require.ErrorAs(t, err, &op)
		assert.Equal(t, "dial", op.Op)
		var ue *url.Error
		require.ErrorAs(t, err, &ue)
		for _, s := range []string{err.Error(), ue.Error(), ue.URL, fmt.Sprintf("%+v %#v", err, err), logs.String()} {
			assert.NotContains(t, s, testSecret)
			assert.NotContains(t, s, testCode)
		}
		assert.Equal(t, 2, strings.Count(logs.String(), "testauth: retrying"), "two retries, form %v", form != nil)
	}
}

// TestDoTimeoutNotRetried: an attempt that times out may have reached the
// platform (a spent code): it is not retried.
func TestDoTimeoutNotRetried(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply{200, `{}`, 10 * time.Second})
	c, logs := newClient(t, engine.Config{Retries: 2, Timeout: 200 * time.Millisecond})
	var r userReply
	err := c.Do(context.Background(), engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL}, &r)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, logs.String(), "testauth: retrying")
	assert.LessOrEqual(t, srv.count(), 1, "one attempt (which may time out before the server sees it)")
}

// TestDoBackoffRespectsDeadline: a retry whose wait would pass the
// context's deadline is not started; the last error comes back at once.
func TestDoBackoffRespectsDeadline(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply{503, "", 0})
	c, _ := newClient(t, engine.Config{Retries: 3, BackoffBase: 10 * time.Second, BackoffLimit: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var r userReply
	err := c.Do(ctx, engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL}, &r)
	var se *engine.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 1, srv.count())
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "no wait started: a wait would have ended with the deadline")
}

// TestDoCanceledDuringBackoff: a context canceled while a retry waits ends
// the call with ctx's error and the last attempt's.
func TestDoCanceledDuringBackoff(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply{503, "", 0})
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(cancelOnMessage{msg: "testauth: retrying", cancel: cancel})
	c, _ := newClient(t, engine.Config{Retries: 3, BackoffBase: 10 * time.Second, BackoffLimit: 10 * time.Second, Logger: logger})
	var r userReply
	err := c.Do(ctx, engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL}, &r)
	require.ErrorIs(t, err, context.Canceled)
	var se *engine.StatusError
	require.ErrorAs(t, err, &se, "the last attempt's error is kept")
	assert.Equal(t, 1, srv.count())
}

func TestDoBadReplies(t *testing.T) {
	t.Parallel()
	big := `{"openid":"` + strings.Repeat("a", engine.MaxBodyLen) + `"}`
	tests := []struct {
		name, body, why string
		out             engine.Reply
	}{
		{"not json", "<html>", "not a JSON object", &userReply{}},
		{"over the limit", big, fmt.Sprintf("over %d bytes", engine.MaxBodyLen), &userReply{}},
		{"refused by the decoder", `{"sign":"x"}`, "bad signature", &signedReply{}},
		{"failed without an error", `{"code":3}`, "an error without details", &silentReply{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, reply{200, tt.body, 0})
			c, _ := newClient(t, engine.Config{Retries: 2})
			err := c.Do(context.Background(), engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL}, tt.out)
			require.ErrorIs(t, err, errBad)
			var re *engine.ReplyError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "testauth: login: malformed reply from testplatform: "+tt.why, err.Error())
			assert.Equal(t, 1, srv.count(), "not retried")
		})
	}
}

// signedReply decodes its body itself and refuses it, as Alipay's reply
// does when the signature over the raw JSON does not verify.
type signedReply struct{ baseReply }

func (r *signedReply) DecodeBody([]byte) error { return engine.Malformed("bad signature") }

// silentReply says it failed but has no error for it.
type silentReply struct{ baseReply }

func (r *silentReply) Err(string, engine.Scrubber) (bool, error) { return false, nil }

// TestDecodeZeroes: nothing of an earlier decode survives in a reply.
func TestDecodeZeroes(t *testing.T) {
	t.Parallel()
	r := userReply{OpenID: "old", baseReply: baseReply{Code: 7}}
	require.NoError(t, engine.Decode([]byte(`{"msg":"x"}`), &r))
	assert.Equal(t, userReply{baseReply: baseReply{Msg: "x"}}, r)
}

func TestStatusErrorHook(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply{418, "", 0})
	custom := errors.New("custom status")
	c, _ := newClient(t, engine.Config{StatusError: func(op string, status int) error {
		return fmt.Errorf("%s %d: %w", op, status, custom)
	}})
	var r userReply
	err := c.Do(context.Background(), engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL}, &r)
	require.ErrorIs(t, err, custom)
	assert.Equal(t, "login 418: custom status", err.Error())
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	valid := engine.Config{Package: "p", Upstream: "u", ErrBadResponse: errBad}
	tests := []struct {
		name string
		edit func(*engine.Config)
		want string
	}{
		{"no package", func(c *engine.Config) { c.Package = "" }, "engine: config needs a Package"},
		{"no upstream", func(c *engine.Config) { c.Upstream = "" }, "engine: config needs a Package"},
		{"no sentinel", func(c *engine.Config) { c.ErrBadResponse = nil }, "p: engine config needs an ErrBadResponse"},
		{"negative timeout", func(c *engine.Config) { c.Timeout = -1 }, "p: timeout must be positive"},
		{"negative retries", func(c *engine.Config) { c.Retries = -1 }, "p: retries must be between 0 and 10"},
		{"too many retries", func(c *engine.Config) { c.Retries = 11 }, "p: retries must be between 0 and 10"},
		{"limit below base", func(c *engine.Config) { c.BackoffBase, c.BackoffLimit = 2, 1 }, "p: backoff base"},
		{"base without limit", func(c *engine.Config) { c.BackoffBase = time.Second }, "p: backoff base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			c, err := engine.New(cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	c, err := engine.New(valid)
	require.NoError(t, err)
	require.NotNil(t, c)
}

// TestNewCopiesHTTPClient: the caller's *http.Client is not modified, and
// its transport is used.
func TestNewCopiesHTTPClient(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply{200, `{"openid":"o"}`, 0})
	var used atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	hc := &http.Client{Transport: rt}
	before := *hc
	c, _ := newClient(t, engine.Config{HTTPClient: hc})
	var r userReply
	require.NoError(t, c.Do(context.Background(), engine.Request{Op: "x", Method: http.MethodGet, Base: srv.URL}, &r))
	assert.Equal(t, int32(1), used.Load())
	assert.Nil(t, hc.CheckRedirect)
	assert.Equal(t, before.Timeout, hc.Timeout)
	assert.NotNil(t, hc.Transport)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestDoConcurrent: many goroutines share one Client and its body buffers;
// each gets its own reply.
func TestDoConcurrent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"openid": r.URL.Query().Get("n") + strings.Repeat("x", 2000)})
	}))
	t.Cleanup(srv.Close)
	c, _ := newClient(t, engine.Config{})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			n := fmt.Sprint(i)
			var r userReply
			err := c.Do(context.Background(), engine.Request{Op: "x", Method: http.MethodGet, Base: srv.URL, Query: map[string]string{"n": n}}, &r)
			if assert.NoError(t, err) {
				assert.Equal(t, n+strings.Repeat("x", 2000), r.OpenID)
			}
		})
	}
	wg.Wait()
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
	}{
		{"https://api.weixin.qq.com/", "https://api.weixin.qq.com", ""},
		{"http://127.0.0.1:8080/prefix//", "http://127.0.0.1:8080/prefix", ""},
		{"ftp://x", "", `p: base URL must be an absolute http(s) URL, got "ftp://x"`},
		{"/relative", "", "absolute"},
		{"https://user:pw@host", "", `must not carry userinfo, a query or a fragment, got "https://REDACTED@host"`},
		{"https://host/?secret=s", "", `got "https://host/?REDACTED"`},
		{"https://host/#frag", "", `got "https://host/#REDACTED"`},
		{"%zz", "", `got "REDACTED"`},
	}
	for _, tt := range tests {
		got, err := engine.BaseURL("p", tt.in)
		if tt.err != "" {
			require.Error(t, err, tt.in)
			assert.Contains(t, err.Error(), tt.err)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
	}
}

// cancelOnMessage is a slog.Handler that calls cancel when a record with
// message msg is logged.
type cancelOnMessage struct {
	msg    string
	cancel context.CancelFunc
}

func (h cancelOnMessage) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOnMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return nil
}

func (h cancelOnMessage) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h cancelOnMessage) WithGroup(string) slog.Handler { return h }

// TestDoErrorStatus: with ErrorStatus, a 4xx whose body says it failed is
// the dialect's error; a 4xx without such a body, a 5xx, or a request
// without ErrorStatus is the status's error.
func TestDoErrorStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		errorStatus bool
		rep         reply
		wantCode    int // apiError's code, or 0 for a StatusError
		wantStatus  int
		wantReqs    int
	}{
		{"oauth refusal", true, reply{401, `{"code":40125,"msg":"invalid_client"}`, 0}, 40125, 0, 1},
		{"4xx without an error body", true, reply{404, `not found`, 0}, 0, 404, 1},
		{"4xx whose body says success", true, reply{400, `{"openid":"o"}`, 0}, 0, 400, 1},
		{"5xx with an error body", true, reply{503, `{"code":40125}`, 0}, 0, 503, 3},
		{"without ErrorStatus", false, reply{401, `{"code":40125,"msg":"invalid_client"}`, 0}, 0, 401, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.rep)
			c, _ := newClient(t, engine.Config{Retries: 2})
			var r userReply
			err := c.Do(context.Background(), engine.Request{Op: "token", Method: http.MethodPost, Base: srv.URL,
				Form: url.Values{"client_secret": {testSecret}}, ErrorStatus: tt.errorStatus}, &r)
			require.Error(t, err)
			if tt.wantCode != 0 {
				var ae *apiError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.wantCode, ae.Code)
			} else {
				var se *engine.StatusError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.wantStatus, se.StatusCode)
			}
			assert.Equal(t, tt.wantReqs, srv.count())
		})
	}
}

// headerAdder is a RoundTripper that adds to the headers of each request
// it sends in place, as a careless tracing or signing middleware does
// (RoundTrip should not modify its request, but some do).
type headerAdder struct{ next http.RoundTripper }

func (h headerAdder) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Add("Accept", "text/plain")
	r.Header.Set("User-Agent", "mutated")
	return h.next.RoundTrip(r)
}

// TestBodilessRequestsShareNoHeaderState sends bodiless requests (the path
// that builds its own *http.Request) from many goroutines through a
// transport that changes each request's headers: under -race, no request
// may write to headers another one reads, and every request leaves with
// the Client's own headers.
func TestBodilessRequestsShareNoHeaderState(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var accepts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		accepts = append(accepts, strings.Join(r.Header.Values("Accept"), ","))
		mu.Unlock()
		_, _ = io.WriteString(w, `{"openid":"o1"}`)
	}))
	t.Cleanup(srv.Close)
	plain, _ := newClient(t, engine.Config{})
	mutating, _ := newClient(t, engine.Config{HTTPClient: &http.Client{Transport: headerAdder{http.DefaultTransport}}})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			c := plain
			if i%2 == 1 {
				c = mutating
			}
			for range 10 {
				var r userReply
				assert.NoError(t, c.Do(context.Background(), engine.Request{
					Op: "login", Method: http.MethodGet, Base: srv.URL, Path: "/sns/login",
					Header: map[string]string{"X-Call": "1"},
				}, &r))
			}
		})
	}
	wg.Wait()
	assert.Len(t, accepts, 320)
	var plainCount int
	for _, a := range accepts {
		switch a {
		case "application/json":
			plainCount++
		case "application/json,text/plain":
		default:
			t.Errorf("Accept %q: a request's header leaked into another's", a)
		}
	}
	assert.Equal(t, 160, plainCount)
}
