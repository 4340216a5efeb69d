// Package wecomauthtest is a fake of WeCom's (企业微信) server API for the
// login of a mini-program opened in WeCom, for tests that run offline: GET
// /cgi-bin/gettoken and GET /cgi-bin/miniprogram/jscode2session on a local
// port, with WeCom's parameters and errcode/errmsg envelope, members whose
// wx.qy.login codes work once for five minutes, what
// wx.qy.getEnterpriseUserInfo hands the mini-program, corp access tokens
// (the same one until it expires, revocable early as WeCom may do), fault
// injection and call counts.
//
// Point a client at it with wecomauth.WithBaseURL(srv.URL):
//
//	srv := wecomauthtest.NewServer("ww0123456789abcdef", "corp-app-secret")
//	defer srv.Close()
//	app, _ := wecomauth.New("wx4f4bc4dec97d474b", "ww0123456789abcdef", "corp-app-secret", wecomauth.WithBaseURL(srv.URL))
//	sess, err := app.Code2Session(ctx, srv.Login("zhangsan")) // sess.OpenID == "zhangsan"
//
// The wire follows https://developer.work.weixin.qq.com/document/path/91039
// (gettoken), https://developer.work.weixin.qq.com/document/path/91507
// (code2Session) and the global errcodes of
// https://developer.work.weixin.qq.com/document/path/90313.
package wecomauthtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/fakeplat"
)

// name prefixes the package's errors.
const name = "wecomauthtest"

// Paths of the endpoints, for [Server.FailNext] and [Server.Calls].
const (
	PathToken        = "/cgi-bin/gettoken"
	PathCode2Session = "/cgi-bin/miniprogram/jscode2session"
)

// Lifetimes.
const (
	// CodeTTL is how long a wx.qy.login code stays valid.
	CodeTTL = 5 * time.Minute
	// TokenTTL is how long a corp access token stays valid (7200 s).
	TokenTTL = 2 * time.Hour
)

// Errors of the methods that play the mini-program's part.
var (
	// ErrUnknownUser means no member has the userid.
	ErrUnknownUser = errors.New("wecomauthtest: unknown user")
	// ErrNotLoggedIn means the member has no session_key yet.
	ErrNotLoggedIn = errors.New("wecomauthtest: user has not logged in")
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

// User is a simulated member who opens the mini-program in WeCom.
type User struct {
	// UserID is the member's userid in the corp. Empty: a new random one.
	UserID string
	// CorpID is the corp the member belongs to; empty: the server's. A
	// member of another corp tests that a client refuses them.
	CorpID string
	// Name and Gender (0 unknown, 1 male, 2 female) are what
	// wx.qy.getEnterpriseUserInfo hands out.
	Name   string
	Gender int
}

// Server is a fake WeCom server for one corp and the app whose secret the
// mini-program's access token comes from. It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, for wecomauth.WithBaseURL.
	URL string

	corpID string
	secret string
	cfg    config
	core   *fakeplat.Core
	users  *fakeplat.Users[User]
	tokens *fakeplat.Tokens
}

// NewServer starts a fake WeCom server for the corp and app secret; it
// panics when it cannot start ([Start] returns the error instead).
func NewServer(corpID, corpSecret string, opts ...Option) *Server {
	s, err := Start(corpID, corpSecret, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] returning an error.
func Start(corpID, corpSecret string, opts ...Option) (*Server, error) {
	if err := fakeplat.CheckApp(name, "corpID", "corpSecret", corpID, corpSecret); err != nil {
		return nil, err
	}
	cfg := config{s: fakeplat.Settings{Name: name, Now: time.Now}}
	if err := fakeplat.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	s := &Server{corpID: corpID, secret: corpSecret, cfg: cfg}
	s.users = fakeplat.NewUsers(fakeplat.UsersConfig[User]{
		Settings: cfg.s, IDName: "userid", ErrUnknown: ErrUnknownUser, ErrNotLoggedIn: ErrNotLoggedIn,
		Fill: s.fill, Blank: func(id string) User { return User{UserID: id} },
		CodeTTL: CodeTTL,
	})
	// The current token while it is valid ("有效期内重复获取返回相同结果"),
	// a new one after.
	s.tokens = fakeplat.NewTokens(fakeplat.TokenPolicy{TTL: TokenTTL, Reuse: true, Len: 64, Alphabet: fakeplat.URLSafe}, cfg.s.Now)
	core, err := fakeplat.Start(fakeplat.Config{
		Endpoints: map[string]fakeplat.Endpoint{
			PathToken:        {Method: http.MethodGet, Handle: s.gettoken},
			PathCode2Session: {Method: http.MethodGet, Handle: s.code2Session},
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

// CorpID returns the corp the server serves.
func (s *Server) CorpID() string { return s.corpID }

// String returns the server's address and corpid, never its secret.
func (s *Server) String() string {
	return fmt.Sprintf("wecomauthtest.Server{URL: %q, CorpID: %q}", s.URL, s.corpID)
}

// GoString is String, for %#v.
func (s *Server) GoString() string { return s.String() }

// Format prints String whatever the verb.
func (s *Server) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Calls returns how many requests the endpoint at path has received.
func (s *Server) Calls(path string) int { return s.core.Calls(path) }

// FailNext makes the next request to path fail with errcode (-1 is "system
// busy", which clients retry) and errmsg msg (default: WeCom's text), with
// no other effect: a code in it is not used up. Calls queue up.
func (s *Server) FailNext(path string, errcode int, msg ...string) error {
	if errcode == 0 {
		return errors.New("wecomauthtest: FailNext: errcode must not be 0")
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

// errReply is WeCom's envelope.
type errReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// errMsgs are WeCom's texts; WeCom appends a link to its error page.
var errMsgs = map[int]string{
	-1:    "system busy",
	40001: "invalid secret",
	40013: "invalid corpid",
	40014: "invalid access_token",
	40029: "invalid code",
	41001: "access_token missing",
	41002: "corpid missing",
	41004: "corpsecret missing",
	41008: "missing code",
	42001: "access_token expired",
	60020: "not allow to access from your ip",
}

func apiError(code int) errReply {
	msg := fakeplat.ErrText(errMsgs, code)
	return errReply{ErrCode: code, ErrMsg: fmt.Sprintf("%s, more info at https://open.work.weixin.qq.com/devtool/query?e=%d", msg, code)}
}

func fail(code int) fakeplat.Reply { return fakeplat.Reply{Body: apiError(code)} }

type tokenReply struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// gettoken serves GET /cgi-bin/gettoken?corpid&corpsecret: the current
// token while it is valid ("有效期内重复获取返回相同结果"), a new one after.
func (s *Server) gettoken(r *fakeplat.Request) fakeplat.Reply {
	q := r.Query
	if code, bad := credErrors[fakeplat.Credentials(q.Get("corpid"), q.Get("corpsecret"), s.corpID, s.secret)]; bad {
		return fail(code)
	}
	tok, life := s.tokens.Issue()
	return fakeplat.Reply{Body: tokenReply{ErrMsg: "ok", AccessToken: tok, ExpiresIn: int(life / time.Second)}}
}

// RevokeToken makes WeCom drop the current token before its expiry, as it
// may "出于运营需要": calls with it get 40014, and the next gettoken issues
// a new one.
func (s *Server) RevokeToken() { s.tokens.Revoke() }

// AccessToken returns the current token, or "" when there is none.
func (s *Server) AccessToken() string { return s.tokens.Current() }

// TokensIssued returns how many distinct tokens gettoken has issued.
func (s *Server) TokensIssued() int { return s.tokens.Issued() }

// credErrors are the errcodes of wrong credentials.
var credErrors = map[fakeplat.CredState]int{
	fakeplat.CredNoID:      41002,
	fakeplat.CredBadID:     40013,
	fakeplat.CredNoSecret:  41004,
	fakeplat.CredBadSecret: 40001,
}

// tokenErrors are the errcodes of a call's access_token.
var tokenErrors = map[fakeplat.TokenState]int{
	fakeplat.TokenMissing: 41001,
	fakeplat.TokenExpired: 42001,
	fakeplat.TokenUnknown: 40014,
}

type code2SessionReply struct {
	CorpID     string `json:"corpid"`
	UserID     string `json:"userid"`
	SessionKey string `json:"session_key"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// code2Session serves GET /cgi-bin/miniprogram/jscode2session.
func (s *Server) code2Session(r *fakeplat.Request) fakeplat.Reply {
	q := r.Query
	if code, bad := tokenErrors[s.tokens.Check(q.Get("access_token"))]; bad {
		return fail(code)
	}
	if q.Get("grant_type") != "authorization_code" {
		return fail(40002) // WeChat's "invalid grant_type"; WeCom's table has no code for it
	}
	jsCode := q.Get("js_code")
	if jsCode == "" {
		return fail(41008)
	}
	u, key, st := s.users.Exchange(jsCode)
	if st != fakeplat.CodeOK {
		return fail(40029)
	}
	return fakeplat.Reply{Body: code2SessionReply{CorpID: u.CorpID, UserID: u.UserID, SessionKey: key, ErrMsg: "ok"}}
}

// fill gives u the defaults and returns its userid.
func (s *Server) fill(u User) (string, User) {
	if u.UserID == "" {
		u.UserID = "user" + fakeplat.RandomString(12, "0123456789abcdefghijklmnopqrstuvwxyz")
	}
	if u.CorpID == "" {
		u.CorpID = s.corpID
	}
	return u.UserID, u
}

// AddUser registers u and returns its userid (a new random one when
// u.UserID is empty).
func (s *Server) AddUser(u User) string { return s.users.Add(u) }

// Login does what wx.qy.login does for the member with the userid
// (registering one for an unknown or empty userid): a new session_key and a
// code valid for [CodeTTL] and once.
func (s *Server) Login(userID string) string { return s.users.Login(userID) }

// SessionKey returns the member's current session_key.
func (s *Server) SessionKey(userID string) (string, error) {
	_, key, err := s.users.LoggedIn(userID)
	return key, err
}

// Profile is what wx.qy.getEnterpriseUserInfo hands the mini-program.
type Profile struct {
	// RawData is the member's non-sensitive data as JSON (name, gender,
	// language).
	RawData string `json:"rawData"`
	// Signature is hex(sha1(rawData + session_key)).
	Signature string `json:"signature"`
	// EncryptedData is {corpid, userid, name, gender, watermark},
	// AES-128-CBC under the session_key, base64; the watermark's appid is
	// the mini-program's.
	EncryptedData string `json:"encryptedData"`
	// IV is EncryptedData's base64 initialisation vector.
	IV string `json:"iv"`
}

type rawUserInfo struct {
	Name     string `json:"name"`
	Gender   int    `json:"gender"`
	Language string `json:"language"`
}

type encryptedUserInfo struct {
	CorpID    string `json:"corpid"`
	UserID    string `json:"userid"`
	Name      string `json:"name"`
	Gender    int    `json:"gender"`
	Watermark struct {
		AppID     string `json:"appid"`
		Timestamp int64  `json:"timestamp"`
	} `json:"watermark"`
}

// EnterpriseUserInfo returns what wx.qy.getEnterpriseUserInfo hands the
// mini-program appID for the member now, made with their current
// session_key, in the shape of
// https://developer.work.weixin.qq.com/document/path/96974.
func (s *Server) EnterpriseUserInfo(appID, userID string) (Profile, error) {
	m, key, err := s.users.LoggedIn(userID)
	if err != nil {
		return Profile{}, err
	}
	raw, err := json.Marshal(rawUserInfo{Name: m.Name, Gender: m.Gender, Language: "zh_CN"})
	if err != nil {
		return Profile{}, err
	}
	e := encryptedUserInfo{CorpID: m.CorpID, UserID: m.UserID, Name: m.Name, Gender: m.Gender}
	e.Watermark.AppID, e.Watermark.Timestamp = appID, s.cfg.s.Now().Unix()
	plain, err := json.Marshal(e)
	if err != nil {
		return Profile{}, err
	}
	enc, iv, err := fakeplat.Seal(key, plain)
	if err != nil {
		return Profile{}, err
	}
	return Profile{RawData: string(raw), Signature: crypto.Sign(key, string(raw)), EncryptedData: enc, IV: iv}, nil
}
