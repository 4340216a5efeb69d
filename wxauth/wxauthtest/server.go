package wxauthtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Paths of the endpoints the server serves, for [Server.FailNext],
// [Server.FailNextStatus] and [Server.Calls].
const (
	PathCode2Session    = "/sns/jscode2session"
	PathToken           = "/cgi-bin/token"
	PathStableToken     = "/cgi-bin/stable_token"
	PathPhoneNumber     = "/wxa/business/getuserphonenumber"
	PathCheckSession    = "/wxa/checksession"
	PathResetSessionKey = "/wxa/resetusersessionkey"
	PathCheckEncrypted  = "/wxa/business/checkencryptedmsg"
)

// Lifetimes WeChat gives what it issues.
const (
	// CodeTTL is how long a login code or a phone code stays valid.
	CodeTTL = 5 * time.Minute
	// TokenTTL is how long an access_token stays valid (expires_in 7200).
	TokenTTL = 2 * time.Hour
	// TokenGrace is how long the previous /cgi-bin/token token stays valid
	// after a new one is issued.
	TokenGrace = 5 * time.Minute
	// DefaultRateLimit is how many jscode2session calls one user may make in
	// a sliding minute before getting errcode 45011.
	DefaultRateLimit = 100
)

// maxBodyLen caps request bodies.
const maxBodyLen = 1 << 20

// endpoint is one API the server serves.
type endpoint struct {
	method string
	handle func(s *Server, q url.Values, body []byte) any
}

// endpoints maps each path to its API. It is never modified.
var endpoints = map[string]endpoint{
	PathCode2Session:    {http.MethodGet, (*Server).code2Session},
	PathToken:           {http.MethodGet, (*Server).token},
	PathStableToken:     {http.MethodPost, (*Server).stableToken},
	PathPhoneNumber:     {http.MethodPost, (*Server).phoneNumber},
	PathCheckSession:    {http.MethodGet, (*Server).checkSession},
	PathResetSessionKey: {http.MethodGet, (*Server).resetSessionKey},
	PathCheckEncrypted:  {http.MethodPost, (*Server).checkEncrypted},
}

// An Option configures a [Server]. Options validate their arguments:
// [NewServer] returns the first error an option reports.
type Option func(*config) error

type config struct {
	now       func() time.Time
	latency   time.Duration
	rateLimit int
	keyTTL    time.Duration // session_key lifetime; 0: no expiry

	apiSecurity bool // WithAPISecurity
}

// WithClock sets the clock the server reads for code and token expiry, rate
// limits, watermarks and request ids (default time.Now). It is called from
// the server's goroutines, so it must be safe for concurrent use, as
// [Clock.Now] is. Advance a test clock to expire what the server issued
// without waiting.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("wxauthtest: clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// WithLatency delays every reply by d of real time, as a slow network would,
// for tests of timeouts and context deadlines. A request whose client gives
// up, or a server that is closed, ends the wait early.
func WithLatency(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("wxauthtest: latency must not be negative")
		}
		c.latency = d
		return nil
	}
}

// WithRateLimit sets how many jscode2session calls, and how many
// getuserphonenumber calls, one user may make in a sliding minute (default
// [DefaultRateLimit]); the next gets errcode 45011.
func WithRateLimit(perMinute int) Option {
	return func(c *config) error {
		if perMinute <= 0 {
			return errors.New("wxauthtest: rate limit must be positive")
		}
		c.rateLimit = perMinute
		return nil
	}
}

// Server is a fake WeChat API server listening on a local port. Create it
// with [NewServer] and stop it with [Server.Close]. It is safe for
// concurrent use.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port without a trailing
	// slash: the argument for wxauth.WithBaseURL.
	URL string

	appID  string
	secret string
	cfg    config
	ts     *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu         sync.Mutex
	users      map[string]*user
	phones     int                    // users given a default phone number
	codes      map[string]*issuedCode // login codes
	phoneCodes map[string]*issuedCode
	tokens     tokens
	calls      map[string]int
	faults     map[string][]fault
	lastSweep  time.Time
	produced   producedData
	sec        *apiSecurity
	extra      *http.ServeMux // handlers added by Handle (safe for concurrent use)
}

// fault is an injected failure: an errcode, or else an HTTP status.
type fault struct {
	errcode  int
	status   int
	msg      string // errmsg; "" for WeChat's text for errcode
	asString bool   // send errcode as a JSON string
}

// A FailOption shapes the reply [Server.FailNext] injects.
type FailOption func(*fault)

// WithErrMsg sets the errmsg of the injected reply, so that a test sees
// WeChat's real text, such as 40164's "invalid ip 1.2.3.4 ipv6
// ::ffff:1.2.3.4, not in whitelist" (default: the server's text for the
// errcode). A request id is appended as WeChat does (" rid: ..."), unless
// msg has one already.
func WithErrMsg(msg string) FailOption { return func(f *fault) { f.msg = msg } }

// WithErrCodeString sends the injected errcode as a JSON string
// ({"errcode":"40164",...}) instead of a number, as some WeChat replies do.
func WithErrCodeString() FailOption { return func(f *fault) { f.asString = true } }

// NewServer starts a fake WeChat server for the mini-program with the given
// appid and app secret, on a local port, as httptest.NewServer does. Call
// [Server.Close] when done.
//
// Like httptest.NewServer it panics when it cannot start: an empty appID or
// secret, an option that rejects its argument, or no local port. Those are
// mistakes in a test's set-up; [Start] returns them as an error instead.
func NewServer(appID, secret string, opts ...Option) *Server {
	s, err := Start(appID, secret, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] that returns an error instead of panicking, for
// programs (such as a development server) that embed the fake.
func Start(appID, secret string, opts ...Option) (*Server, error) {
	if appID == "" {
		return nil, errors.New("wxauthtest: appID must not be empty")
	}
	if secret == "" {
		return nil, errors.New("wxauthtest: secret must not be empty")
	}
	cfg := config{now: time.Now, rateLimit: DefaultRateLimit}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := newServer(appID, secret, cfg)
	if cfg.apiSecurity {
		sec, err := newAPISecurity(cfg.now())
		if err != nil {
			return nil, err
		}
		s.sec = sec
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return nil, fmt.Errorf("wxauthtest: cannot listen on a local port: %w", err)
		}
	}
	s.ts = &httptest.Server{
		Listener: l,
		Config: &http.Server{
			Handler:           http.HandlerFunc(s.serve),
			ReadHeaderTimeout: 10 * time.Second,
			MaxHeaderBytes:    maxBodyLen,
		},
	}
	s.ts.Start()
	s.URL = s.ts.URL
	return s, nil
}

// newServer returns a Server that is not listening: its handler is s.serve.
func newServer(appID, secret string, cfg config) *Server {
	return &Server{
		appID:      appID,
		secret:     secret,
		cfg:        cfg,
		closed:     make(chan struct{}),
		users:      make(map[string]*user),
		codes:      make(map[string]*issuedCode),
		phoneCodes: make(map[string]*issuedCode),
		calls:      make(map[string]int),
		faults:     make(map[string][]fault),
		extra:      http.NewServeMux(),
	}
}

// Handle makes the server answer requests to the paths that pattern matches
// (a [http.ServeMux] pattern, such as "POST /wxa/msg_sec_check") with h: for
// WeChat APIs this fake does not serve. The server's own endpoints are
// matched first; a request that matches neither gets 404. Like
// ServeMux.Handle, it panics when pattern is invalid or conflicts with one
// registered before. It is safe to call while the server runs.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.extra.Handle(pattern, h)
}

// Close shuts the server down and waits for the requests in flight to end.
// Waits for [WithLatency] end at once. Close may be called more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		if s.ts != nil { // an authorizer's fake of a ComponentServer does not listen
			s.ts.Close()
		}
	})
}

// AppID returns the appid the server was created with.
func (s *Server) AppID() string { return s.appID }

// Calls returns how many requests the endpoint at path (such as
// [PathCode2Session]) has received, failed and injected ones included. It is
// 0 for a path the server does not serve.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// FailNext makes the next request to the endpoint at path (such as
// [PathCode2Session]) fail with WeChat errcode (-1 is "system error", which
// clients retry), with no other effect: a code in it is not used up. Calls
// queue up: two FailNext fail the next two requests. opts set the errmsg
// ([WithErrMsg]) or send the errcode as a string ([WithErrCodeString]). A
// path the server does not serve, or errcode 0, is an error.
func (s *Server) FailNext(path string, errcode int, opts ...FailOption) error {
	if errcode == 0 {
		return errors.New("wxauthtest: FailNext: errcode must not be 0")
	}
	f := fault{errcode: errcode}
	for _, o := range opts {
		if o != nil {
			o(&f)
		}
	}
	return s.addFault(path, f)
}

// FailNextStatus makes the next request to the endpoint at path fail with
// the HTTP status (300 to 599, such as 502 for a broken gateway) and a
// plain-text body, with no other effect. Calls queue up with those of
// [Server.FailNext]. A path the server does not serve, or another status, is
// an error.
func (s *Server) FailNextStatus(path string, status int) error {
	if status < 300 || status > 599 {
		return fmt.Errorf("wxauthtest: FailNextStatus: status must be 300 to 599, got %d", status)
	}
	return s.addFault(path, fault{status: status})
}

func (s *Server) addFault(path string, f fault) error {
	if _, ok := endpoints[path]; !ok {
		return fmt.Errorf("wxauthtest: no endpoint at %q", path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], f)
	return nil
}

// now reads the server's clock.
func (s *Server) now() time.Time { return s.cfg.now() }

// serve is the server's HTTP handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	ep, ok := endpoints[r.URL.Path]
	if !ok {
		// With no pattern, ServeMux answers 404, 405, or a redirect of an
		// unclean path ("/a/../b"): the fake answers that with 404, as for
		// any path it does not know.
		if h, pattern := s.extra.Handler(r); pattern != "" || cleanPath(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.calls[r.URL.Path]++
	s.mu.Unlock()
	if !s.wait(r) {
		return
	}
	if f, ok := s.takeFault(r.URL.Path); ok {
		if f.status != 0 {
			writeText(w, f.status)
			return
		}
		s.writeJSON(w, s.injected(f))
		return
	}
	if r.Method != ep.method {
		code := 43001 // require GET method
		if ep.method == http.MethodPost {
			code = 43002 // require POST method
		}
		s.writeJSON(w, s.apiError(code))
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyLen))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeText(w, http.StatusRequestEntityTooLarge)
			}
			return // the client went away
		}
	}
	if s.isSecured(r.URL.Path) {
		s.serveSecured(w, r, ep, body)
		return
	}
	s.writeJSON(w, ep.handle(s, r.URL.Query(), body))
}

// cleanPath reports whether p is a path ServeMux would not redirect: rooted,
// with no "." or ".." element and no doubled slash.
func cleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// wait sleeps for the configured latency. It reports false when the client
// gave up or the server closed first.
func (s *Server) wait(r *http.Request) bool {
	if s.cfg.latency <= 0 {
		return true
	}
	t := time.NewTimer(s.cfg.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closed:
	}
	return false
}

// takeFault pops the next injected failure for path.
func (s *Server) takeFault(path string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[path]
	if len(q) == 0 {
		return fault{}, false
	}
	f := q[0]
	if len(q) == 1 {
		delete(s.faults, path)
	} else {
		s.faults[path] = q[1:]
	}
	return f, true
}

// writeJSON writes v as WeChat does: JSON, HTTP 200, Content-Type text/plain.
func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil { // unreachable: replies are plain structs
		writeText(w, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// writeText writes an HTTP error status with its text as the body.
func writeText(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

// errReply is WeChat's error reply, and the status part of some successes.
type errReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// okReply is the status of a success that carries errcode 0.
var okReply = errReply{ErrCode: 0, ErrMsg: "ok"}

// errMsgs are WeChat's errmsg texts for the errcodes the server sends.
var errMsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40013: "invalid appid",
	40029: "invalid code",
	40125: "invalid appsecret",
	40163: "code been used",
	40226: "code blocked",
	41001: "access_token missing",
	41002: "appid missing",
	41004: "appsecret missing",
	41008: "missing code",
	42001: "access_token expired",
	43001: "require GET method",
	43002: "require POST method",
	44002: "empty post data",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit mustslower retry next minute",
	47001: "data format error",
	87007: "session_key is not existed or expired",
	87008: "invalid sig_method",
	87009: "invalid signature",
	1:     "data not exit", // checkencryptedmsg: WeChat's spelling
	// For FailNext: codes the server itself never sends. Texts from
	// https://developers.weixin.qq.com/doc/oplatform/developers/errCode/errCode.html
	// and WeChat's replies as developers report them.
	40097:  "invalid args",
	40164:  "invalid ip, not in whitelist",
	40230:  "API_Missing_Wechatmp_Serial",
	40231:  "API_Missing_Wechatmp_Timestamp",
	40232:  "API_Missing_Wechatmp_Signature",
	40233:  "API_Missing_Wechatmp_Appid",
	40234:  "invalid signature",
	40235:  "invalid encrypt",
	40236:  "API_Invalid_Wechatmp_Appid",
	40240:  "API_Expired_Wechatmp_Timestamp",
	48001:  "api unauthorized",
	934011: "request_body is required",
}

// apiError returns WeChat's error reply for code, with a request id appended
// to errmsg as WeChat does ("invalid code, rid: 65f3e9f7-77cf1a1c-0dd74a0e").
func (s *Server) apiError(code int) errReply {
	msg, ok := errMsgs[code]
	if !ok {
		msg = "injected error"
	}
	return errReply{ErrCode: code, ErrMsg: msg + ", rid: " + s.rid()}
}

// rid returns a new request id, as WeChat appends to every errmsg.
func (s *Server) rid() string {
	return fmt.Sprintf("%08x-%08x-%08x", uint32(s.now().Unix()), rand.Uint32(), rand.Uint32())
}

// stringCodeReply is an error reply whose errcode is a JSON string.
type stringCodeReply struct {
	ErrCode string `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// injected returns the error reply of the injected fault f.
func (s *Server) injected(f fault) any {
	r := s.apiError(f.errcode)
	if f.msg != "" {
		r.ErrMsg = f.msg
		if !strings.Contains(f.msg, "rid:") {
			r.ErrMsg += " rid: " + s.rid()
		}
	}
	if f.asString {
		return stringCodeReply{ErrCode: strconv.Itoa(r.ErrCode), ErrMsg: r.ErrMsg}
	}
	return r
}
