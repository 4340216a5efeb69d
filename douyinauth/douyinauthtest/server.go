package douyinauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wxmp/miniauth/internal/fakeplat"
)

// name prefixes the package's errors.
const name = "douyinauthtest"

// Paths of the endpoints the server serves, for [Server.FailNext],
// [Server.FailNextStatus] and [Server.Calls]. One server serves the paths of
// both of Douyin's hosts (developer.toutiao.com and open.douyin.com), as
// douyinauth.WithBaseURL expects.
const (
	PathCode2Session      = "/api/apps/v2/jscode2session"
	PathClientToken       = "/oauth/client_token/"
	PathStableClientToken = "/oauth/stable_client_token/"
	PathPhoneNumber       = "/api/apps/v1/get_phonenumber_info/"
)

// Lifetimes Douyin gives what it issues.
const (
	// CodeTTL is how long a login code, an anonymous code or a phone code
	// stays valid.
	CodeTTL = 5 * time.Minute
	// TokenTTL is how long a client_token stays valid (expires_in 7200).
	TokenTTL = 2 * time.Hour
	// TokenGrace is how long the previous client_token stays valid once a
	// new one is issued.
	TokenGrace = 5 * time.Minute
)

// envelope is the error shape an endpoint answers in.
type envelope int

const (
	tipsEnvelope  envelope = iota // {err_no, err_tips, log_id, data}: developer.toutiao.com api/apps/v2
	msgEnvelope                   // {err_no, err_msg, log_id, data}: open.douyin.com api/apps/v1
	oauthEnvelope                 // {data: {error_code, description}, message}: open.douyin.com oauth
)

// endpoint is one API the server serves. Every one is a POST of JSON.
type endpoint struct {
	env    envelope
	handle func(s *Server, h http.Header, body []byte) any
}

// endpoints maps each path to its API. It is never modified.
var endpoints = map[string]endpoint{
	PathCode2Session:      {tipsEnvelope, (*Server).code2Session},
	PathClientToken:       {oauthEnvelope, (*Server).clientToken},
	PathStableClientToken: {oauthEnvelope, (*Server).stableClientToken},
	PathPhoneNumber:       {msgEnvelope, (*Server).phoneNumber},
}

// An Option configures a [Server]. Options validate their arguments:
// [NewServer] returns the first error an option reports.
type Option func(*config) error

// config holds what the options set; its fields are unexported, so that
// none of fakeplat shows through the exported Option.
type config struct {
	s   fakeplat.Settings
	pub *rsa.PublicKey
}

// WithClock sets the clock the server reads for code and token expiry,
// watermarks and log ids (default time.Now). It must be safe for concurrent
// use, as [Clock.Now] is.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return c.s.SetClock(now) }
}

// WithLatency delays every reply by d of real time, for tests of timeouts
// and cancelled contexts. A client that gives up, or a server that closes,
// ends the wait early.
func WithLatency(d time.Duration) Option {
	return func(c *config) error { return c.s.SetLatency(d) }
}

// WithAppPublicKey sets the app public key (应用公钥, PEM "PUBLIC KEY" or
// "RSA PUBLIC KEY") the server encrypts phone numbers with, for a test that
// brings its own key pair. Without it the server makes a 2048-bit pair of
// its own on first use, whose private half [Server.PrivateKey] returns.
func WithAppPublicKey(pemText string) Option {
	return func(c *config) error {
		block, _ := pem.Decode([]byte(pemText))
		if block == nil {
			return errors.New("douyinauthtest: public key is not PEM")
		}
		var pub any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return fmt.Errorf("douyinauthtest: PEM type %q is not a public key", block.Type)
		}
		rk, ok := pub.(*rsa.PublicKey)
		if err != nil || !ok {
			return errors.New("douyinauthtest: not an RSA public key")
		}
		c.pub = rk
		return nil
	}
}

// Server is a fake of Douyin's mini-app server APIs listening on a local
// port. Create it with [NewServer] and stop it with [Server.Close]. It is
// safe for concurrent use.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port without a trailing
	// slash: the argument for douyinauth.WithBaseURL.
	URL string

	appID  string
	secret string
	cfg    config
	core   *fakeplat.Core // lifecycle, call counts, queued faults, latency

	keyOnce sync.Once
	pub     *rsa.PublicKey
	priv    *rsa.PrivateKey // nil with WithAppPublicKey
	keyErr  error

	users      *fakeplat.Users[User] // with their login codes
	anonCodes  *fakeplat.Codes
	phoneCodes *fakeplat.Codes
	tokens     *fakeplat.Tokens // client_tokens
	stable     *fakeplat.Tokens // stable_client_tokens

	// mu makes jscode2session's checks of its two codes and their use one
	// step: a refused call uses up neither.
	mu sync.Mutex
}

// fault is an injected error reply.
type fault struct {
	code int64
	msg  string
}

// A FailOption shapes the reply [Server.FailNext] injects.
type FailOption func(*fault)

// WithErrMsg sets the message of the injected reply (err_tips, err_msg or
// description), default: the server's text for the code.
func WithErrMsg(msg string) FailOption { return func(f *fault) { f.msg = msg } }

// NewServer starts a fake Douyin server for the mini-app with the given
// appid and app secret, on a local port, as httptest.NewServer does. Call
// [Server.Close] when done. Like httptest.NewServer it panics when it cannot
// start (an empty appID or secret, an option that rejects its argument, no
// local port); [Start] returns the error instead.
func NewServer(appID, secret string, opts ...Option) *Server {
	s, err := Start(appID, secret, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] that returns an error instead of panicking.
func Start(appID, secret string, opts ...Option) (*Server, error) {
	if appID == "" {
		return nil, errors.New("douyinauthtest: appID must not be empty")
	}
	if secret == "" {
		return nil, errors.New("douyinauthtest: secret must not be empty")
	}
	cfg := config{s: fakeplat.Settings{Name: name, Now: time.Now}}
	if err := fakeplat.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	tok := fakeplat.TokenPolicy{TTL: TokenTTL, Prefix: "clt.", Len: 56, Alphabet: fakeplat.Hex}
	s := &Server{
		appID:  appID,
		secret: secret,
		cfg:    cfg,
		users: fakeplat.NewUsers(fakeplat.UsersConfig[User]{
			Settings: cfg.s, ErrUnknown: ErrUnknownUser, ErrNotLoggedIn: ErrNotLoggedIn,
			Fill: fill, Blank: func(id string) User { return User{OpenID: id} },
			CodeTTL: CodeTTL,
		}),
		anonCodes: fakeplat.NewCodes(CodeTTL, cfg.s.Now),
		// An expired phone code is 28005187, an unknown one 28001007.
		phoneCodes: fakeplat.NewCodes(CodeTTL, cfg.s.Now).ReportExpired(),
	}
	// Every client_token fetch issues a new token; the one before it stays
	// valid for TokenGrace more (or less, if it expires first), older ones
	// are invalid. stable_client_token hands out the same token until it
	// expires.
	tok.Grace = TokenGrace
	s.tokens = fakeplat.NewTokens(tok, cfg.s.Now)
	tok.Grace, tok.Reuse = 0, true
	s.stable = fakeplat.NewTokens(tok, cfg.s.Now)
	eps := make(map[string]fakeplat.Endpoint, len(endpoints))
	for path, ep := range endpoints {
		eps[path] = fakeplat.Endpoint{Method: http.MethodPost, Handle: func(r *fakeplat.Request) fakeplat.Reply {
			if r.Method != http.MethodPost {
				return fakeplat.Reply{Status: http.StatusMethodNotAllowed}
			}
			return fakeplat.Reply{Body: ep.handle(s, r.Header, r.Body)}
		}}
	}
	core, err := fakeplat.Start(fakeplat.Config{Endpoints: eps, Now: cfg.s.Now, Latency: cfg.s.Latency, ContentType: "application/json; charset=utf-8"})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.core = core
	s.URL = core.URL
	return s, nil
}

// Close shuts the server down and waits for the requests in flight to end.
// It may be called more than once.
func (s *Server) Close() {
	s.core.Close()
}

// AppID returns the appid the server was created with.
func (s *Server) AppID() string { return s.appID }

// keys returns the public key phone numbers are encrypted with, making the
// server's own pair on first use.
func (s *Server) keys() (*rsa.PublicKey, error) {
	s.keyOnce.Do(func() {
		if s.cfg.pub != nil {
			s.pub = s.cfg.pub
			return
		}
		s.priv, s.keyErr = rsa.GenerateKey(rand.Reader, 2048)
		if s.keyErr == nil {
			s.pub = &s.priv.PublicKey
		}
	})
	return s.pub, s.keyErr
}

// PrivateKey returns the private key of the pair the server made, as PKCS#8
// PEM: the argument for douyinauth.WithPrivateKey, as a developer pastes the
// pair of the 应用公钥 they registered in the console. It is "" when the
// server was given a public key with [WithAppPublicKey].
func (s *Server) PrivateKey() string {
	if _, err := s.keys(); err != nil || s.priv == nil {
		return ""
	}
	der, err := x509.MarshalPKCS8PrivateKey(s.priv)
	if err != nil { // unreachable for an RSA key
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// Calls returns how many requests the endpoint at path (such as
// [PathCode2Session]) has received, failed and injected ones included.
func (s *Server) Calls(path string) int { return s.core.Calls(path) }

// FailNext makes the next request to the endpoint at path fail with Douyin
// error code, in that endpoint's envelope ({err_no, err_tips} on
// jscode2session, {err_no, err_msg, log_id} on get_phonenumber_info,
// {data: {error_code, description}, message} on the tokens), with no other
// effect: a code in it is not used up. Calls queue up. A path the server
// does not serve, or code 0, is an error.
func (s *Server) FailNext(path string, code int64, opts ...FailOption) error {
	if code == 0 {
		return errors.New("douyinauthtest: FailNext: code must not be 0")
	}
	f := fault{code: code}
	for _, o := range opts {
		if o != nil {
			o(&f)
		}
	}
	return s.addFault(path, f)
}

// FailNextStatus makes the next request to the endpoint at path fail with
// the HTTP status (300 to 599) and a plain-text body, with no other effect.
func (s *Server) FailNextStatus(path string, status int) error {
	return s.core.FailStatus(name, path, status)
}

func (s *Server) addFault(path string, f fault) error {
	ep, ok := endpoints[path]
	if !ok {
		return fmt.Errorf("%s: no endpoint at %q", name, path)
	}
	// Built when it is sent: its log id and time are the reply's.
	return s.core.AddFault(path, fakeplat.Reply{Body: lazyError{s: s, env: ep.env, code: f.code, msg: f.msg}})
}

// lazyError is an injected error reply, made when it is marshalled.
type lazyError struct {
	s    *Server
	env  envelope
	code int64
	msg  string
}

// MarshalJSON marshals the reply in its endpoint's envelope.
func (e lazyError) MarshalJSON() ([]byte, error) {
	return json.Marshal(e.s.errorReply(e.env, e.code, e.msg))
}

func (s *Server) now() time.Time { return s.cfg.s.Now() }

// errMsgs are the texts the server sends with its codes.
var errMsgs = map[int64]string{
	-1:       "system error",
	40014:    "bad params",
	40015:    "bad appid",
	40017:    "bad secret",
	40018:    "bad code",
	40019:    "bad anonymous_code",
	10002:    "参数错误",
	10003:    "client_key 不存在",
	10013:    "client_key 或者 client_secret 报错",
	10020:    "请求过于频繁",
	28001005: "系统繁忙,此时请开发者稍候再试",
	28001007: "参数不合法",
	28001008: "access_token过期,请刷新或重新授权",
	28003018: "请求频率过高",
	28005187: "code 已过期或已使用",
}

// logID returns a new log id, as Douyin sends with every reply.
func (s *Server) logID() string {
	return s.now().UTC().Format("20060102150405") + strings.ToUpper(fakeplat.RandomString(18, fakeplat.Hex))
}

// The replies of the three envelopes.
type (
	tipsReply struct {
		ErrNo   int64  `json:"err_no"`
		ErrTips string `json:"err_tips"`
		LogID   string `json:"log_id"`
		Data    any    `json:"data"`
	}
	msgReply struct {
		ErrNo  int64  `json:"err_no"`
		ErrMsg string `json:"err_msg"`
		LogID  string `json:"log_id"`
		Data   any    `json:"data"`
	}
	oauthData struct {
		AccessToken string `json:"access_token,omitempty"`
		Captcha     string `json:"captcha"`
		DescURL     string `json:"desc_url"`
		Description string `json:"description"`
		ErrorCode   int64  `json:"error_code"`
		ExpiresIn   int64  `json:"expires_in,omitempty"`
	}
	oauthReply struct {
		Data    oauthData `json:"data"`
		Message string    `json:"message"`
		Extra   struct {
			LogID string `json:"logid"`
			Now   int64  `json:"now"`
		} `json:"extra"`
	}
)

// errorReply returns the error reply of code in the envelope env.
func (s *Server) errorReply(env envelope, code int64, msg string) any {
	if msg == "" {
		msg = fakeplat.ErrText(errMsgs, code)
	}
	switch env {
	case tipsEnvelope:
		return tipsReply{ErrNo: code, ErrTips: msg, LogID: s.logID(), Data: nil}
	case msgEnvelope:
		return msgReply{ErrNo: code, ErrMsg: msg, LogID: s.logID(), Data: ""}
	}
	r := oauthReply{Data: oauthData{Description: msg, ErrorCode: code}, Message: "error"}
	r.Extra.LogID, r.Extra.Now = s.logID(), s.now().UnixMilli()
	return r
}
