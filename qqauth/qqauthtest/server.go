// Package qqauthtest is a fake of QQ's mini-program server API for tests
// that run offline: GET /sns/jscode2session and GET /api/getToken on a local
// port, with WeChat's parameters and QQ's errcode/errmsg envelope, users
// whose qq.login codes work once for five minutes, the encrypted profile
// qq.getUserInfo hands the mini-program, classic access tokens (each fetch
// retires the previous one), fault injection and call counts.
//
// Point a client at it with qqauth.WithBaseURL(srv.URL):
//
//	srv := qqauthtest.NewServer("1112345678", "qq-app-secret")
//	defer srv.Close()
//	app, _ := qqauth.New("1112345678", "qq-app-secret", qqauth.WithBaseURL(srv.URL))
//	code := srv.Login("")                              // what qq.login gives a new user
//	sess, err := app.Code2Session(ctx, code)          // sess.OpenID is the user's
//
// The wire follows QQ's pages:
// https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_login.html#code2session
// (mirrored at https://w3cschool.cn/qqxiaochengxu/qqxiaochengxu-c5fl3875.html)
// and https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_use.html.
// Where they are silent it does what WeChat's server does, and says so.
package qqauthtest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wxmp/miniauth/internal/fakeplat"
)

// name prefixes the package's errors.
const name = "qqauthtest"

// Paths of the endpoints, for [Server.FailNext] and [Server.Calls].
const (
	PathCode2Session = "/sns/jscode2session"
	PathToken        = "/api/getToken"
)

// Lifetimes and limits of what the server issues.
const (
	// CodeTTL is how long a qq.login code stays valid: WeChat's five
	// minutes (QQ's pages say only that a code works once).
	CodeTTL = 5 * time.Minute
	// TokenTTL is how long an access token stays valid (expires_in 7200).
	TokenTTL = 2 * time.Hour
	// TokenGrace is how long the previous access token stays valid once
	// getToken issues a new one.
	TokenGrace = 5 * time.Minute
	// DefaultRateLimit is how many code2session calls one user may make in
	// a sliding minute before errcode 45011 (QQ: 100 a minute per user).
	DefaultRateLimit = 100
)

// An Option configures a [Server].
type Option func(*config) error

// config holds the settings the options set; its field is unexported, so
// that none of fakeplat shows through the exported Option.
type config struct{ s fakeplat.Settings }

// WithClock sets the server's clock (default time.Now), which expires codes
// and tokens and stamps watermarks; wxauthtest.NewClock(t).Now is one. It
// must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return c.s.SetClock(now) }
}

// WithLatency delays every reply by d of real time.
func WithLatency(d time.Duration) Option {
	return func(c *config) error { return c.s.SetLatency(d) }
}

// WithRateLimit sets how many code2session calls one user may make in a
// sliding minute (default [DefaultRateLimit]).
func WithRateLimit(perMinute int) Option {
	return func(c *config) error { return c.s.SetRateLimit(perMinute) }
}

// Server is a fake QQ server. Create it with [NewServer], stop it with
// [Server.Close]. It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, for qqauth.WithBaseURL.
	URL string

	appID  string
	secret string
	cfg    config
	core   *fakeplat.Core
	users  *fakeplat.Users[User]
	tokens *fakeplat.Tokens
}

// NewServer starts a fake QQ server for the mini-program with the given
// appid and secret. Like httptest.NewServer it panics when it cannot start;
// [Start] returns the error instead.
func NewServer(appID, secret string, opts ...Option) *Server {
	s, err := Start(appID, secret, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] returning an error: an empty appID or secret, an
// option that rejects its argument, or no local port.
func Start(appID, secret string, opts ...Option) (*Server, error) {
	if err := fakeplat.CheckApp(name, "appID", "secret", appID, secret); err != nil {
		return nil, err
	}
	cfg := config{s: fakeplat.Settings{Name: name, Now: time.Now, RateLimit: DefaultRateLimit}}
	if err := fakeplat.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	s := &Server{appID: appID, secret: secret, cfg: cfg}
	s.users = fakeplat.NewUsers(fakeplat.UsersConfig[User]{
		Settings: cfg.s, ErrUnknown: ErrUnknownUser, ErrNotLoggedIn: ErrNotLoggedIn,
		Fill: fill, Blank: func(id string) User { return User{OpenID: id} },
		CodeTTL: CodeTTL,
	})
	// A fetch retires the previous token five minutes later: "在刷新过程中
	// … 公众平台后台会保证在5分钟内，新老 access_token 都可用" (QQ's
	// getAccessToken page, as copied at
	// https://w3cschool.cn/qqxiaochengxu/qqxiaochengxu-hxzc3874.html).
	s.tokens = fakeplat.NewTokens(fakeplat.TokenPolicy{TTL: TokenTTL, Len: 64, Alphabet: fakeplat.URLSafe, Grace: TokenGrace}, cfg.s.Now)
	core, err := fakeplat.Start(fakeplat.Config{
		Endpoints: map[string]fakeplat.Endpoint{
			PathCode2Session: {Method: http.MethodGet, Handle: s.code2Session},
			PathToken:        {Method: http.MethodGet, Handle: s.token},
		},
		Now:     cfg.s.Now,
		Latency: cfg.s.Latency,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.core, s.URL = core, core.URL
	return s, nil
}

// Close shuts the server down. It may be called more than once.
func (s *Server) Close() { s.core.Close() }

// AppID returns the appid the server was created with.
func (s *Server) AppID() string { return s.appID }

// String returns the server's address and appid, never its secret.
func (s *Server) String() string {
	return fmt.Sprintf("qqauthtest.Server{URL: %q, AppID: %q}", s.URL, s.appID)
}

// GoString is String, for %#v.
func (s *Server) GoString() string { return s.String() }

// Format prints String whatever the verb.
func (s *Server) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Calls returns how many requests the endpoint at path has received,
// failed and injected ones included.
func (s *Server) Calls(path string) int { return s.core.Calls(path) }

// FailNext makes the next request to path fail with errcode (-1 is "system
// busy", which clients retry) and errmsg msg (default: QQ's text for the
// code), with no other effect: a code in it is not used up. Calls queue up.
func (s *Server) FailNext(path string, errcode int, msg ...string) error {
	if errcode == 0 {
		return errors.New("qqauthtest: FailNext: errcode must not be 0")
	}
	r := apiError(errcode)
	if len(msg) > 0 {
		r.ErrMsg = strings.Join(msg, " ")
	}
	return s.core.Fail(name, path, fakeplat.Reply{Body: r})
}

// FailNextStatus makes the next request to path fail with the HTTP status
// (300 to 599) and a plain-text body.
func (s *Server) FailNextStatus(path string, status int) error {
	return s.core.FailStatus(name, path, status)
}

// errReply is QQ's envelope: errcode and errmsg.
type errReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// errMsgs are the errmsg texts the server sends.
var errMsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40013: "invalid appid",
	40029: "invalid code",
	41002: "appid missing",
	41004: "appsecret missing",
	41008: "missing code",
	45011: "api minute-quota reach limit mustslower retry next minute",
}

func apiError(code int) errReply {
	msg := fakeplat.ErrText(errMsgs, code)
	return errReply{ErrCode: code, ErrMsg: msg}
}

func fail(code int) fakeplat.Reply { return fakeplat.Reply{Body: apiError(code)} }

// checkApp returns the errcode for a wrong appid, secret or grant_type, or
// 0. A wrong secret is 40001, as QQ's getToken documents it, on both paths:
// code2Session's page lists no code for it (WeChat answers 40125 there,
// which package qqauth matches as it matches 40001).
func (s *Server) checkApp(appID, secret, grant, wantGrant string) int {
	if code, bad := credErrors[fakeplat.Credentials(appID, secret, s.appID, s.secret)]; bad {
		return code
	}
	if grant != wantGrant {
		return 40002
	}
	return 0
}

// credErrors are the errcodes of wrong credentials.
var credErrors = map[fakeplat.CredState]int{
	fakeplat.CredNoID:      41002,
	fakeplat.CredBadID:     40013,
	fakeplat.CredNoSecret:  41004,
	fakeplat.CredBadSecret: 40001,
}

type code2SessionReply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid,omitempty"`
}

// code2Session serves GET /sns/jscode2session. QQ lists one refusal of a
// code, 40029 "code 无效", so a used code gets it too.
func (s *Server) code2Session(r *fakeplat.Request) fakeplat.Reply {
	if r.Method != http.MethodGet {
		return fail(43001) // WeChat's "require GET method"
	}
	q := r.Query
	if code := s.checkApp(q.Get("appid"), q.Get("secret"), q.Get("grant_type"), "authorization_code"); code != 0 {
		return fail(code)
	}
	jsCode := q.Get("js_code")
	if jsCode == "" {
		return fail(41008)
	}
	u, key, st := s.users.Exchange(jsCode)
	switch st {
	case fakeplat.CodeOK:
	case fakeplat.CodeLimited:
		return fail(45011)
	default:
		return fail(40029)
	}
	return fakeplat.Reply{Body: code2SessionReply{OpenID: u.OpenID, SessionKey: key, UnionID: u.UnionID}}
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// token serves GET /api/getToken: a new token on every call, the previous
// one retired [TokenGrace] later.
func (s *Server) token(r *fakeplat.Request) fakeplat.Reply {
	if r.Method != http.MethodGet {
		return fail(43001)
	}
	q := r.Query
	if code := s.checkApp(q.Get("appid"), q.Get("secret"), q.Get("grant_type"), "client_credential"); code != 0 {
		return fail(code)
	}
	tok, life := s.tokens.Issue()
	return fakeplat.Reply{Body: tokenReply{AccessToken: tok, ExpiresIn: int(life / time.Second)}}
}

// AccessToken returns the token the server issued last, or "" before the
// first getToken.
func (s *Server) AccessToken() string { return s.tokens.Current() }

// TokenValid reports whether QQ would accept tok now: the newest token
// issued, unexpired.
func (s *Server) TokenValid(tok string) bool { return s.tokens.Check(tok) == fakeplat.TokenOK }

// TokensIssued returns how many tokens getToken has issued.
func (s *Server) TokensIssued() int { return s.tokens.Issued() }
