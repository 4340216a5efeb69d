// Package kuaishouauthtest is a fake of Kuaishou's mini-program server API
// for tests that run offline: POST /oauth2/mp/code2session and POST
// /oauth2/access_token on a local port, with Kuaishou's form parameters and
// its result / error_msg envelope, users whose ks.login codes work once for
// five minutes, the encrypted profile and phone number the mini-program
// receives, access tokens that stay valid for their 48 hours, fault
// injection and call counts.
//
// Point a client at it with kuaishouauth.WithBaseURL(srv.URL):
//
//	srv := kuaishouauthtest.NewServer("ks671234567890123456", "ks-app-secret")
//	defer srv.Close()
//	app, _ := kuaishouauth.New("ks671234567890123456", "ks-app-secret", kuaishouauth.WithBaseURL(srv.URL))
//	sess, err := app.Code2Session(ctx, srv.Login(""))
//
// The access-token call follows Kuaishou's page
// (https://mp.kuaishou.com/docs/develop/server/getAccessToken.html); the
// code2session reply and its result codes follow Kuaishou's SDKs (its page
// could not be read), as package kuaishouauth documents.
package kuaishouauthtest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wxmp/miniauth/internal/fakeplat"
)

// name prefixes the package's errors.
const name = "kuaishouauthtest"

// Paths of the endpoints, for [Server.FailNext] and [Server.Calls].
const (
	PathCode2Session = "/oauth2/mp/code2session"
	PathAccessToken  = "/oauth2/access_token"
)

// Lifetimes and limits.
const (
	// CodeTTL is how long a ks.login code stays valid.
	CodeTTL = 5 * time.Minute
	// TokenTTL is how long an access token stays valid (48 hours).
	TokenTTL = 48 * time.Hour
	// DefaultRateLimit is how many code2session calls one user may make in
	// a sliding minute before result 100200410. Kuaishou's mini-program
	// pages state no limit: the number is WeChat's and QQ's rule, and
	// 100200410 ("api rate limit") comes from Kuaishou's open-platform SDK.
	DefaultRateLimit = 100
)

// Result codes the server sends.
const (
	ResultOK             = 1
	ResultInvalidRequest = 100200100
	ResultBadClient      = 100200101
	ResultInvalidGrant   = 100200105
	ResultRateLimited    = 100200410
	ResultServerError    = 100200500
)

// An Option configures a [Server].
type Option func(*config) error

// config holds the settings the options set; its field is unexported, so
// that none of fakeplat shows through the exported Option.
type config struct{ s fakeplat.Settings }

// WithClock sets the server's clock (default time.Now); it must be safe
// for concurrent use (wxauthtest.NewClock(t).Now is).
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

// Server is a fake Kuaishou server. It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, for kuaishouauth.WithBaseURL.
	URL string

	appID  string
	secret string
	cfg    config
	core   *fakeplat.Core
	users  *fakeplat.Users[User]
	tokens *fakeplat.Tokens
}

// NewServer starts a fake Kuaishou server for the app; it panics when it
// cannot start ([Start] returns the error instead).
func NewServer(appID, secret string, opts ...Option) *Server {
	s, err := Start(appID, secret, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] returning an error.
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
	// Every fetch issues a new token; the earlier ones stay valid until
	// their own expiry.
	s.tokens = fakeplat.NewTokens(fakeplat.TokenPolicy{TTL: TokenTTL, Grace: fakeplat.KeepAll,
		Prefix: "ChFvYXV0aC5hY2Nlc3NUb2tlbh", Len: 64, Alphabet: fakeplat.URLSafe}, cfg.s.Now)
	core, err := fakeplat.Start(fakeplat.Config{
		Endpoints: map[string]fakeplat.Endpoint{
			PathCode2Session: {Method: http.MethodPost, Handle: s.code2Session},
			PathAccessToken:  {Method: http.MethodPost, Handle: s.accessToken},
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

// AppID returns the app_id the server was created with.
func (s *Server) AppID() string { return s.appID }

// String returns the server's address and app_id, never its secret.
func (s *Server) String() string {
	return fmt.Sprintf("kuaishouauthtest.Server{URL: %q, AppID: %q}", s.URL, s.appID)
}

// GoString is String, for %#v.
func (s *Server) GoString() string { return s.String() }

// Format prints String whatever the verb.
func (s *Server) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Calls returns how many requests the endpoint at path has received.
func (s *Server) Calls(path string) int { return s.core.Calls(path) }

// FailNext makes the next request to path fail with result (100200500 is
// Kuaishou's internal error) and error_msg msg (default: the server's text
// for the result), with no other effect. Calls queue up.
func (s *Server) FailNext(path string, result int, msg ...string) error {
	if result == ResultOK {
		return errors.New("kuaishouauthtest: FailNext: result must not be 1")
	}
	r := apiError(result)
	if len(msg) > 0 {
		r.ErrorMsg = strings.Join(msg, " ")
	}
	return s.core.Fail(name, path, fakeplat.Reply{Body: r})
}

// FailNextStatus makes the next request to path fail with the HTTP status
// (300 to 599) and a plain-text body.
func (s *Server) FailNextStatus(path string, status int) error {
	return s.core.FailStatus(name, path, status)
}

// errReply is Kuaishou's error envelope.
type errReply struct {
	Result   int    `json:"result"`
	ErrorMsg string `json:"error_msg"`
}

var errMsgs = map[int]string{
	ResultInvalidRequest: "参数有误",
	ResultBadClient:      "验证出错,请检查app_id和app_secret",
	ResultInvalidGrant:   "invalid js_code",
	ResultRateLimited:    "api rate limit",
	ResultServerError:    "server error",
}

func apiError(result int) errReply {
	msg := fakeplat.ErrText(errMsgs, result)
	return errReply{Result: result, ErrorMsg: msg}
}

func fail(result int) fakeplat.Reply { return fakeplat.Reply{Body: apiError(result)} }

// params returns the request's parameters: the form body, and (for the
// access token, whose page shows a GET with a query too) the query.
func params(r *fakeplat.Request, queryToo bool) url.Values {
	if queryToo && len(r.Form) == 0 {
		return r.Query
	}
	return r.Form
}

// checkApp returns the result for missing or wrong credentials, or 0.
func (s *Server) checkApp(p url.Values) int {
	id, sec := p.Get("app_id"), p.Get("app_secret")
	switch {
	case id == "" || sec == "":
		return ResultInvalidRequest
	case fakeplat.Credentials(id, sec, s.appID, s.secret) != fakeplat.CredOK:
		return ResultBadClient
	}
	return 0
}

type code2SessionReply struct {
	Result     int    `json:"result"`
	SessionKey string `json:"session_key"`
	OpenID     string `json:"open_id"`
}

// code2Session serves POST /oauth2/mp/code2session with the form app_id,
// app_secret and js_code.
func (s *Server) code2Session(r *fakeplat.Request) fakeplat.Reply {
	if r.Method != http.MethodPost {
		return fail(ResultInvalidRequest)
	}
	p := params(r, false)
	if code := s.checkApp(p); code != 0 {
		return fail(code)
	}
	jsCode := p.Get("js_code")
	if jsCode == "" {
		return fail(ResultInvalidRequest)
	}
	u, key, st := s.users.Exchange(jsCode)
	switch st {
	case fakeplat.CodeOK:
	case fakeplat.CodeLimited:
		return fail(ResultRateLimited)
	default:
		return fail(ResultInvalidGrant)
	}
	return fakeplat.Reply{Body: code2SessionReply{Result: ResultOK, SessionKey: key, OpenID: u.OpenID}}
}

type tokenReply struct {
	Result      int    `json:"result"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// accessToken serves POST /oauth2/access_token: a new token on every call,
// the earlier ones valid until their own expiry.
func (s *Server) accessToken(r *fakeplat.Request) fakeplat.Reply {
	p := params(r, true)
	if code := s.checkApp(p); code != 0 {
		return fail(code)
	}
	if p.Get("grant_type") != "client_credentials" {
		return fail(ResultInvalidRequest)
	}
	tok, life := s.tokens.Issue()
	return fakeplat.Reply{Body: tokenReply{Result: ResultOK, AccessToken: tok, ExpiresIn: int(life / time.Second), TokenType: "bearer"}}
}

// TokenValid reports whether Kuaishou would accept tok now: issued and
// unexpired.
func (s *Server) TokenValid(tok string) bool { return s.tokens.Check(tok) == fakeplat.TokenOK }

// TokensIssued returns how many tokens the server has issued.
func (s *Server) TokensIssued() int { return s.tokens.Issued() }
