package wxauth

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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/wxmp/miniauth"

	"github.com/wxmp/miniauth/internal/redact"
)

// Client is what a login server needs from WeChat. [*App] implements it;
// code that depends on Client can be tested with a fake.
//
// It holds the three calls of every login, no more. Code that also needs
// [App.GetPhoneNumber], [App.CheckSessionKey] or the other calls of App
// declares its own small interface with them (as package session does with
// its SessionKeyChecker), or takes *App and tests against package
// wxauthtest.
//
// Implementations must be safe for concurrent use.
type Client interface {
	// Code2Session exchanges the code from wx.login for the user's session.
	Code2Session(ctx context.Context, code string) (*Session, error)
	// VerifySignature checks the signature WeChat sent beside rawData.
	VerifySignature(sessionKey, rawData, signature string) error
	// Decrypt decrypts encryptedData into v and checks its watermark.
	Decrypt(sessionKey, encryptedData, iv string, v any) error
}

// maxBodyLen caps every reply body read from WeChat.
const maxBodyLen = 1 << 20

// userAgent is the User-Agent of every request.
const userAgent = "miniauth (+https://github.com/wxmp/miniauth) go-resty/" + resty.Version

// App is a client for one mini-program's WeChat APIs. It implements [Client].
// Create it with [New]; it is safe for concurrent use.
type App struct {
	appID  string
	secret string
	cfg    config
	http   *resty.Client
	tokens *tokenCache
	// bufs holds the buffers reply bodies are read into (a pointer, so
	// that an App value stays free of locks). A buffer is reused once its
	// reply is decoded: a reply type must keep no slice of the body
	// (encoding/json copies what it stores; an UnmarshalJSON of a reply
	// type must copy too).
	bufs *sync.Pool
	// c2sQuery is jscode2session's query around the code: its parameters
	// in url.Values.Encode order, the code going between the two parts.
	c2sQuery [2]string
}

var (
	_ Client                     = (*App)(nil)
	_ miniauth.Client            = (*App)(nil)
	_ miniauth.Apps              = (*App)(nil)
	_ miniauth.Decrypter         = (*App)(nil)
	_ miniauth.SignatureVerifier = (*App)(nil)
	_ miniauth.PhoneExchanger    = (*App)(nil)
)

// New returns a client for the mini-program with the given appid and app
// secret. An empty appID or secret, or an option that rejects its argument,
// is an error.
func New(appID, secret string, opts ...Option) (*App, error) {
	if appID == "" {
		return nil, errors.New("wxauth: appID must not be empty")
	}
	if secret == "" {
		return nil, errors.New("wxauth: secret must not be empty")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient // resty mutates the client it is given: hand it a copy
	}
	if hc.Transport == nil {
		hc.Transport = defaultTransport()
	}
	if cfg.classicToken && cfg.tokenSource != nil {
		return nil, errors.New("wxauth: WithClassicToken and WithTokenSource exclude each other")
	}
	rc := resty.NewWithClient(&hc).
		SetRedirectPolicy(resty.NoRedirectPolicy()).
		SetRetryCount(0). // retries are done here, where they cannot log the URL
		SetDebug(false).
		SetDisableWarn(true).
		SetLogger(discardLogger{}).
		SetResponseBodyLimit(maxBodyLen).
		// Headers of every request, set once here rather than on each.
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", userAgent)
	a := &App{appID: appID, secret: secret, cfg: cfg, http: rc, bufs: newBufPool()}
	a.c2sQuery = [2]string{
		"appid=" + url.QueryEscape(appID) + "&grant_type=authorization_code&js_code=",
		"&secret=" + url.QueryEscape(secret),
	}
	a.tokens = newTokenCache(a)
	return a, nil
}

// newTokenCache builds a's access-token cache from its options.
func newTokenCache(a *App) *tokenCache {
	cfg := &a.cfg
	src := cfg.tokenSource
	if src == nil {
		src = wechatSource{app: a, classic: cfg.classicToken}
	}
	store := cfg.tokenStore
	if store == nil {
		m := NewMemoryTokenStore()
		m.now = cfg.now
		store = m
	}
	// One fetch, retries included, fits in the store's lock, with the two
	// margins the work under the lock keeps before the lock expires.
	n := time.Duration(cfg.retries)
	fetch := cfg.timeout*(n+1) + cfg.backoffLimit*n
	lockTTL := fetch + 2*lockMargin(fetch)
	return &tokenCache{
		appID:      a.appID,
		src:        src,
		store:      store,
		failClosed: cfg.classicToken,
		now:        cfg.now,
		log:        cfg.logger,
		lockTTL:    lockTTL,
		budget:     2*lockTTL + time.Second,
		hold:       cfg.backoffLimit,
	}
}

// String returns "wxauth.App{AppID: ...}": never the secret or a token.
// String, GoString and Format have value receivers, so that an App value
// (a copy, or *app printed) is as safe to print as a pointer.
func (a App) String() string { return fmt.Sprintf("wxauth.App{AppID: %q}", a.appID) }

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb, so that no fmt verb shows the
// secret or the access token.
func (a App) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the appid the client was created with.
func (a *App) AppID() string { return a.appID }

// Platform returns [miniauth.WeChat].
func (a *App) Platform() miniauth.Platform { return miniauth.WeChat }

// App makes an App the [miniauth.Apps] of its one mini-program: it returns
// a itself for its own appid or for "", and an error matching
// [ErrUnknownApp] for any other, so that session.LoginHandler(app, m) serves
// one app.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

// request describes one call to a WeChat API.
type request struct {
	op     string            // API name for errors and logs, e.g. "code2session"
	method string            // http.MethodGet or http.MethodPost
	path   string            // e.g. "/sns/jscode2session"
	query  map[string]string // query parameters (may carry secrets)
	// rawQuery is the query already encoded, for the hot path of
	// Code2Session; when set, query is not read.
	rawQuery string
	body     any // JSON body for POST, or nil
	// secrets are values that must never reach an error or a log line.
	secrets []string
}

// url returns the request's URL under base, its query encoded in the order
// of its sorted keys (as url.Values.Encode does).
func (r *request) url(base string) string {
	if r.rawQuery != "" {
		return base + r.path + "?" + r.rawQuery
	}
	if len(r.query) == 0 {
		return base + r.path
	}
	keys := make([]string, 0, len(r.query))
	for k := range r.query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(base)
	b.WriteString(r.path)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(r.query[k]))
	}
	return b.String()
}

// reply is implemented by every reply struct through an embedded baseReply.
type reply interface {
	apiStatus() (code int, msg string)
}

// baseReply holds the errcode and errmsg every WeChat reply may carry.
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

// do performs req with retries and decodes the reply into out. It returns an
// *APIError for a non-zero errcode.
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
		a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "wxauth: retrying",
			slog.String("op", req.op), slog.Int("attempt", attempt+1),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wxauth: %s: %w (after %w)", req.op, ctx.Err(), err)
		case <-t.C:
		}
	}
	return err
}

// secretsOf returns the values no error or log line about req may show. It
// is called on failures only, so that a success allocates nothing for it.
func (a *App) secretsOf(req *request) []string {
	return append([]string{a.secret}, req.secrets...)
}

// backoff returns the wait before retry number attempt+1: equal jitter
// under an exponential ceiling.
func (a *App) backoff(attempt int) time.Duration {
	ceil := a.cfg.backoffBase << attempt
	if ceil <= 0 || ceil > a.cfg.backoffLimit {
		ceil = a.cfg.backoffLimit
	}
	// Equal jitter: half the ceiling, plus a random part of the other half.
	// The floor keeps retries from bunching up; the jitter spreads a fleet.
	half := ceil / 2
	return half + rand.N(ceil-half) + 1
}

// attemptContext returns the context of one attempt: ctx bounded by the
// per-attempt timeout, or ctx itself when its own deadline comes first.
func (a *App) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= a.cfg.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, a.cfg.timeout)
}

// attempt makes one request. It reports whether a failure may be retried.
//
// The request goes through resty with response parsing off: the body is
// read here, under [maxBodyLen], into a buffer the App reuses, and decoded
// whatever the Content-Type says (WeChat serves JSON as text/plain).
func (a *App) attempt(ctx context.Context, req *request, out reply) (retry bool, err error) {
	actx, cancel := a.attemptContext(ctx)
	defer cancel()
	r := a.http.R().SetContext(actx).SetDoNotParseResponse(true)
	if req.body != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(req.body)
	}
	start := time.Now()
	resp, err := r.Execute(req.method, req.url(a.cfg.baseURL))
	var body []byte
	if err == nil {
		buf := a.bufs.Get().(*[]byte)
		defer a.bufs.Put(buf)
		body, err = readBody(resp.RawResponse.Body, buf)
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
		log.LogAttrs(ctx, slog.LevelDebug, "wxauth: request failed", slog.String("op", req.op),
			slog.Duration("took", time.Since(start)), slog.String("error", err.Error()))
		return retry, err
	}
	status := resp.RawResponse.StatusCode
	log.LogAttrs(ctx, slog.LevelDebug, "wxauth: request", slog.String("op", req.op),
		slog.Int("status", status), slog.Duration("took", time.Since(start)))
	if status != http.StatusOK {
		return status >= 500, &StatusError{Op: req.op, StatusCode: status}
	}
	if err := decodeReply(body, out); err != nil {
		return false, badReply(req.op, "not a JSON object")
	}
	if code, msg := out.apiStatus(); code != 0 {
		log.LogAttrs(ctx, slog.LevelDebug, "wxauth: api error", slog.String("op", req.op),
			slog.Int("errcode", code))
		return code == -1, newAPIError(req.op, code, msg, a.secretsOf(req)...)
	}
	return false, nil
}

// decodeReply decodes body into out, zeroed first so that nothing of an
// earlier attempt survives: by out's own fast decoder when it has one and
// body has the plain shape it reads, by encoding/json otherwise.
func decodeReply(body []byte, out reply) error {
	if f, ok := out.(fastReply); ok && f.decodeFast(body) {
		return nil
	}
	reflect.ValueOf(out).Elem().SetZero()
	return json.Unmarshal(body, out)
}

// errBodyTooLarge is readBody's error for a body over maxBodyLen.
var errBodyTooLarge = errors.New("wxauth: reply body too large")

// readBody reads r to its end into *buf (grown as needed, and kept there for
// the next use if it stays small) and returns what it read, or
// errBodyTooLarge past maxBodyLen bytes.
func readBody(r io.Reader, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	defer func() {
		if cap(b) <= maxPooledBuf {
			*buf = b[:0]
		}
	}()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > maxBodyLen {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Sizes of the body buffers an App reuses: replies are a few hundred bytes;
// a buffer that grew past maxPooledBuf for a large reply is not kept.
const (
	pooledBufLen = 1 << 10
	maxPooledBuf = 64 << 10
)

// newBufPool returns the pool of body buffers of one App.
func newBufPool() *sync.Pool {
	return &sync.Pool{New: func() any {
		b := make([]byte, 0, pooledBufLen)
		return &b
	}}
}

// badReply returns an error matching [ErrBadResponse] for a reply of op that
// cannot be used, saying why (never quoting the reply: it may hold secrets).
func badReply(op, why string) error {
	return &replyError{op: op, why: why}
}

type replyError struct{ op, why string }

func (e *replyError) Error() string {
	return "wxauth: " + e.op + ": malformed reply from wechat: " + e.why
}

func (e *replyError) Is(target error) bool { return target == ErrBadResponse }

// isDialError reports whether err is a failure to connect, after which the
// request was certainly not sent and a retry is safe.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transportError wraps a failed request's error with its URL redacted. The
// cause stays reachable with errors.Is and errors.As (context.DeadlineExceeded,
// *net.OpError), but the *url.Error in the chain is a redacted copy.
func transportError(op string, err error, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// A copy whose URL and cause both print without secrets: a caller
		// that digs the *url.Error out of the chain and logs it is safe too.
		err = &url.Error{
			Op:  ue.Op,
			URL: scrubMsg(redact.URL(ue.URL), secrets...),
			Err: &scrubbedErr{msg: scrubMsg(ue.Err.Error(), secrets...), orig: ue.Err},
		}
	}
	return &transportErr{op: op, msg: scrubMsg(err.Error(), secrets...), err: err}
}

// transportErr is a request that failed before WeChat answered. Its text is
// scrubbed of known secrets as a last line of defence when it is made; the
// secrets themselves are not kept, so that %#v cannot print them.
type transportErr struct {
	op  string
	msg string
	err error
}

func (e *transportErr) Error() string {
	return "wxauth: " + e.op + ": request failed: " + e.msg
}

func (e *transportErr) Unwrap() error { return e.err }

// scrubbedErr is the cause of a failed request with its text scrubbed. It
// has no Unwrap, so its text is the only one printed, but errors.Is and
// errors.As still reach the cause (context.DeadlineExceeded, *net.OpError).
type scrubbedErr struct {
	msg  string
	orig error
}

func (e *scrubbedErr) Error() string { return e.msg }

func (e *scrubbedErr) Is(target error) bool { return errors.Is(e.orig, target) }

func (e *scrubbedErr) As(target any) bool { return errors.As(e.orig, target) }

// scrubMsg removes secrets from text that came from outside.
func scrubMsg(s string, secrets ...string) string { return redact.Strings(s, secrets...) }

// discardLogger keeps resty silent: its warnings and errors can carry URLs.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
