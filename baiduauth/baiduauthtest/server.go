package baiduauthtest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/internal/fakeplat"
)

// PathCode2Session is the login endpoint's path, for [Server.FailNext] and
// [Server.Calls].
const PathCode2Session = baiduauth.PathCode2Session

// CodeTTL is how long a code from [Server.Login] stays valid (swan.login's
// code: 10 minutes).
const CodeTTL = 10 * time.Minute

// DefaultMobile is the phone number of a user who has none.
const DefaultMobile = "13800138000"

// An Option configures a [Server].
type Option func(*config) error

type config struct{ now func() time.Time }

// WithClock sets the clock the server reads for code expiry (default
// time.Now). It must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("baiduauthtest: clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// User is a simulated Baidu user of the smart program.
type User struct {
	// OpenID is the user's id in this app. Empty: a new random one.
	OpenID string
	// NickName, HeadImgURL and Sex are what swan.getUserInfo's data
	// carries.
	NickName   string
	HeadImgURL string
	Sex        int
	// Mobile is the number the phone-number button gives (default
	// [DefaultMobile]).
	Mobile string
}

type user struct {
	User
	sessionKey string
}

type issuedCode struct {
	openID string
	issued time.Time
	used   bool
}

// Server is a fake of Baidu's smart-program login API on a local port.
// Create it with [NewServer], stop it with [Server.Close]. It is safe for
// concurrent use.
type Server struct {
	// URL is the server's base URL: the argument for baiduauth.WithBaseURL.
	URL string

	appKey, secret string
	cfg            config
	core           *fakeplat.Core // lifecycle, call counts, queued faults

	mu    sync.Mutex
	users map[string]*user
	codes map[string]*issuedCode
}

// NewServer starts a fake for the app with the given AppKey and secret. Like
// httptest.NewServer it panics when it cannot start; [Start] returns the
// error instead.
func NewServer(appKey, secret string, opts ...Option) *Server {
	s, err := Start(appKey, secret, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] returning an error instead of panicking.
func Start(appKey, secret string, opts ...Option) (*Server, error) {
	if appKey == "" || secret == "" {
		return nil, errors.New("baiduauthtest: appKey and secret must not be empty")
	}
	cfg := config{now: time.Now}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := &Server{appKey: appKey, secret: secret, cfg: cfg,
		users: make(map[string]*user), codes: make(map[string]*issuedCode)}
	core, err := fakeplat.Start(fakeplat.Config{
		Endpoints: map[string]fakeplat.Endpoint{PathCode2Session: {Method: http.MethodPost, Handle: s.serve}},
		Now:       cfg.now,
	})
	if err != nil {
		return nil, fmt.Errorf("baiduauthtest: %w", err)
	}
	s.core = core
	s.URL = core.URL
	return s, nil
}

// Close shuts the server down. It may be called more than once.
func (s *Server) Close() { s.core.Close() }

// AppKey returns the AppKey the server serves.
func (s *Server) AppKey() string { return s.appKey }

// AddUser registers u (a new random openid when it has none,
// [DefaultMobile] when it has no Mobile) and returns its openid. A user
// with the same openid is replaced, keeping their session key.
func (s *Server) AddUser(u User) string {
	if u.OpenID == "" {
		u.OpenID = randomString(26)
	}
	if u.Mobile == "" {
		u.Mobile = DefaultMobile
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.users[u.OpenID]; old != nil {
		old.User = u
	} else {
		s.users[u.OpenID] = &user{User: u}
	}
	return u.OpenID
}

// Login does what swan.login does for the user with the openid: it gives
// the user a new session key (24 bytes) and returns a new code, valid for
// [CodeTTL] and once. An unknown openid registers a user; an empty one, a
// user with a random openid.
func (s *Server) Login(openID string) string {
	if openID == "" {
		openID = randomString(26)
	}
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[openID]
	if u == nil {
		u = &user{User: User{OpenID: openID, Mobile: DefaultMobile}}
		s.users[openID] = u
	}
	u.sessionKey = base64.StdEncoding.EncodeToString(key)
	now := s.cfg.now()
	for c, ic := range s.codes {
		if now.Sub(ic.issued) > CodeTTL {
			delete(s.codes, c)
		}
	}
	code := randomString(32)
	s.codes[code] = &issuedCode{openID: openID, issued: now}
	return code
}

// SessionKey returns the user's current session key, or an error for a
// user who has not logged in.
func (s *Server) SessionKey(openID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[openID]
	if u == nil || u.sessionKey == "" {
		return "", fmt.Errorf("baiduauthtest: openid %q has not logged in", openID)
	}
	return u.sessionKey, nil
}

// Encrypted is encrypted user data as the mini-program receives it.
type Encrypted struct {
	// Data is the ciphertext (swan.getUserInfo's data, the phone button's
	// encryptedData), in base64.
	Data string `json:"data"`
	// IV is its iv, in base64.
	IV string `json:"iv"`
}

// Encrypt encrypts payload (marshalled to JSON unless it is a []byte) for
// the user as Baidu does: AES-192-CBC under their current session key, a
// random iv, Baidu's framing with the AppKey trailer.
func (s *Server) Encrypt(openID string, payload any) (Encrypted, error) {
	key, err := s.SessionKey(openID)
	if err != nil {
		return Encrypted{}, err
	}
	data, ok := payload.([]byte)
	if !ok {
		if data, err = json.Marshal(payload); err != nil {
			return Encrypted{}, err
		}
	}
	ivb := make([]byte, 16)
	_, _ = rand.Read(ivb)
	iv := base64.StdEncoding.EncodeToString(ivb)
	ct, err := baiduauth.Encrypt(s.appKey, key, iv, data)
	if err != nil {
		return Encrypted{}, err
	}
	return Encrypted{Data: ct, IV: iv}, nil
}

// UserInfo returns swan.getUserInfo's encrypted data for the user:
// {"openid","nickname","headimgurl","sex"}.
func (s *Server) UserInfo(openID string) (Encrypted, error) {
	s.mu.Lock()
	u := s.users[openID]
	s.mu.Unlock()
	if u == nil {
		return Encrypted{}, fmt.Errorf("baiduauthtest: no user %q", openID)
	}
	return s.Encrypt(openID, baiduauth.UserInfo{OpenID: u.OpenID, NickName: u.NickName, HeadImgURL: u.HeadImgURL, Sex: u.Sex})
}

// Phone returns the phone-number button's encrypted data for the user:
// {"mobile": "..."}.
func (s *Server) Phone(openID string) (Encrypted, error) {
	s.mu.Lock()
	u := s.users[openID]
	s.mu.Unlock()
	if u == nil {
		return Encrypted{}, fmt.Errorf("baiduauthtest: no user %q", openID)
	}
	return s.Encrypt(openID, map[string]string{"mobile": u.Mobile})
}

// Calls returns how many requests the endpoint at path received.
func (s *Server) Calls(path string) int { return s.core.Calls(path) }

// FailNext makes the next request to path fail with the OAuth error code
// errCode (such as "invalid_client"), with no other effect: a code in it
// is not used up. Calls queue up.
func (s *Server) FailNext(path, errCode string) error {
	if errCode == "" {
		return errors.New("baiduauthtest: FailNext: errCode must not be empty")
	}
	return s.addFault(path, fakeplat.Reply{Body: oauthError(errCode, "")})
}

// FailNextStatus makes the next request to path fail with the HTTP status
// (300 to 599) and a plain-text body.
func (s *Server) FailNextStatus(path string, status int) error {
	if status < 300 || status > 599 {
		return fmt.Errorf("baiduauthtest: FailNextStatus: status must be 300 to 599, got %d", status)
	}
	return s.addFault(path, fakeplat.Reply{Status: status})
}

func (s *Server) addFault(path string, r fakeplat.Reply) error {
	if err := s.core.AddFault(path, r); err != nil {
		return fmt.Errorf("baiduauthtest: %w", err)
	}
	return nil
}

// oauthDescriptions are the error_description texts of Baidu's OAuth error
// codes (its 错误码列表).
var oauthDescriptions = map[string]string{
	"invalid_request":     "invalid refresh token",
	"invalid_client":      "unknown client id",
	"invalid_grant":       "The provided authorization grant is revoked",
	"unauthorized_client": "The client is not authorized to use this authorization grant type",
}

// errorReply is the error envelope.
type errorReply struct {
	Errno            int64  `json:"errno,omitempty"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

type sessionReply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
}

func (s *Server) serve(r *fakeplat.Request) fakeplat.Reply {
	if r.Method != http.MethodPost {
		return fakeplat.Reply{Status: http.StatusMethodNotAllowed}
	}
	return fakeplat.Reply{Body: s.code2Session(r.Form)}
}

// missing is the reply to a request without a required parameter, in the
// shape of the page's example.
func missing(field string) errorReply {
	return errorReply{Errno: 10010100, Error: "parameter is invalid",
		ErrorDescription: "Key: 'Code2SessionKeyParam." + field + "' Error:Field validation for '" + field + "' failed on the 'required' tag"}
}

func oauthError(code, detail string) errorReply {
	d := oauthDescriptions[code]
	if d == "" {
		d = "injected error"
	}
	if detail != "" {
		d = detail
	}
	return errorReply{Error: code, ErrorDescription: d}
}

func (s *Server) code2Session(form url.Values) any {
	switch {
	case form.Get("code") == "":
		return missing("Code")
	case form.Get("client_id") == "":
		return missing("ClientID")
	case form.Get("sk") == "":
		return missing("Sk")
	case form.Get("client_id") != s.appKey:
		return oauthError("invalid_client", "")
	case subtle.ConstantTimeCompare([]byte(form.Get("sk")), []byte(s.secret)) != 1:
		return oauthError("invalid_client", "")
	}
	code := form.Get("code")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[code]
	if c == nil || c.used || s.cfg.now().Sub(c.issued) > CodeTTL {
		// As Baidu's OAuth does, the description echoes the code.
		return oauthError("invalid_grant", "Invalid authorization code: "+code)
	}
	c.used = true
	u := s.users[c.openID]
	return sessionReply{OpenID: u.OpenID, SessionKey: u.sessionKey}
}

func randomString(n int) string { return fakeplat.RandomString(n, fakeplat.Alnum) }
