package wxauthtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"time"

	"github.com/wxmp/miniauth/crypto"
)

// code2SessionReply is jscode2session's success: no errcode, as WeChat sends.
type code2SessionReply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid,omitempty"`
}

// code2Session serves GET /sns/jscode2session.
func (s *Server) code2Session(q url.Values, _ []byte) any {
	if code := s.checkApp(q.Get("appid"), q.Get("secret"), q.Get("grant_type"), "authorization_code"); code != 0 {
		return s.apiError(code)
	}
	jsCode := q.Get("js_code")
	if jsCode == "" {
		return s.apiError(41008)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c := s.codes[jsCode]
	if c == nil || expired(c, now) {
		return s.apiError(40029)
	}
	u := s.users[c.openID] // users are never removed
	switch {
	case u.Blocked:
		return s.apiError(40226)
	case !s.allow(&u.recent, now):
		return s.apiError(45011)
	case c.used:
		return s.apiError(40163)
	}
	c.used = true
	return code2SessionReply{OpenID: u.OpenID, SessionKey: u.sessionKey, UnionID: u.UnionID}
}

// allow records a call at now in a user's recent calls of one API
// (jscode2session or getuserphonenumber) and reports whether it is within
// the rate limit. A refused call is not recorded, so the record never holds
// more than the limit. s.mu must be held.
func (s *Server) allow(recent *[]time.Time, now time.Time) bool {
	// Calls are recorded in time order: drop those a minute old or more
	// from the front, in time proportional to what is dropped.
	cut := now.Add(-time.Minute)
	i := 0
	for i < len(*recent) && !(*recent)[i].After(cut) {
		i++
	}
	*recent = (*recent)[i:]
	if len(*recent) >= s.cfg.rateLimit {
		return false
	}
	*recent = append(*recent, now)
	return true
}

// checkApp checks the appid, app secret and grant_type (which must be
// wantGrant) of a request and returns the errcode WeChat would send, or 0.
// The secret is compared in constant time.
func (s *Server) checkApp(appID, secret, grant, wantGrant string) int {
	switch {
	case appID == "":
		return 41002
	case appID != s.appID:
		return 40013
	case secret == "":
		return 41004
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.secret)) != 1:
		return 40125
	case grant != wantGrant:
		return 40002
	}
	return 0
}

// accessToken is an issued access_token.
type accessToken struct {
	value   string
	expires time.Time
}

// tokens is the app's access_token state. Only the tokens that can still be
// valid are kept: the latest and the previous plain token, and the stable one.
type tokens struct {
	plain     accessToken // latest from /cgi-bin/token
	prev      accessToken // the one before it, valid until prevUntil
	prevUntil time.Time
	stable    accessToken // from /cgi-bin/stable_token
}

func newAccessToken(now time.Time) accessToken {
	return accessToken{value: randomString(64, urlAlphabet), expires: now.Add(TokenTTL)}
}

// check returns the errcode an API sends for the access_token tok at now, or 0.
func (t *tokens) check(tok string, now time.Time) int {
	if tok == "" {
		return 41001
	}
	var match accessToken
	var until time.Time // zero: no limit but expiry
	switch {
	case sameToken(tok, t.plain.value):
		match = t.plain
	case sameToken(tok, t.stable.value):
		match = t.stable
	case sameToken(tok, t.prev.value):
		match, until = t.prev, t.prevUntil
	default:
		return 40001
	}
	switch {
	case !until.IsZero() && !now.Before(until):
		return 40001 // replaced, grace over: "not latest"
	case !now.Before(match.expires):
		return 42001
	}
	return 0
}

// sameToken compares a presented token with an issued one in constant time.
func sameToken(presented, issued string) bool {
	return issued != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(issued)) == 1
}

// stableToken returns the stable token at now, issuing a new one when there is
// none, it has expired, or force is set. s.mu must be held.
func (t *tokens) stableToken(now time.Time, force bool) accessToken {
	if force || t.stable.value == "" || !now.Before(t.stable.expires) {
		t.stable = newAccessToken(now)
	}
	return t.stable
}

// AccessToken returns an access_token the server accepts, as
// /cgi-bin/stable_token in normal mode would hand out: the current stable
// token, or a new one when there is none or it has expired. It is for tests
// that give the code under test a fixed token instead of fetching one.
func (s *Server) AccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens.stableToken(s.now(), false).value
}

// tokenReply is the success of both token endpoints.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// token serves GET /cgi-bin/token: a new token each call; the previous one
// stays valid for [TokenGrace].
func (s *Server) token(q url.Values, _ []byte) any {
	if code := s.checkApp(q.Get("appid"), q.Get("secret"), q.Get("grant_type"), "client_credential"); code != 0 {
		return s.apiError(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := &s.tokens
	if t.plain.value != "" {
		t.prev, t.prevUntil = t.plain, now.Add(TokenGrace)
	}
	t.plain = newAccessToken(now)
	return tokenReply{AccessToken: t.plain.value, ExpiresIn: int(TokenTTL / time.Second)}
}

// stableToken serves POST /cgi-bin/stable_token.
func (s *Server) stableToken(_ url.Values, body []byte) any {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if code := decodeBody(body, &req); code != 0 {
		return s.apiError(code)
	}
	if code := s.checkApp(req.AppID, req.Secret, req.GrantType, "client_credential"); code != 0 {
		return s.apiError(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := s.tokens.stableToken(now, req.ForceRefresh)
	return tokenReply{AccessToken: t.value, ExpiresIn: int(t.expires.Sub(now) / time.Second)}
}

// decodeBody decodes a JSON request body into v and returns the errcode
// WeChat sends for a bad one, or 0.
func decodeBody(body []byte, v any) int {
	if len(bytes.TrimSpace(body)) == 0 {
		return 44002
	}
	if json.Unmarshal(body, v) != nil {
		return 47001
	}
	return 0
}

// phoneReply is getuserphonenumber's success.
type phoneReply struct {
	errReply
	PhoneInfo phoneInfo `json:"phone_info"`
}

type phoneInfo struct {
	PhoneNumber     string    `json:"phoneNumber"`
	PurePhoneNumber string    `json:"purePhoneNumber"`
	CountryCode     string    `json:"countryCode"`
	Watermark       watermark `json:"watermark"`
}

// phoneNumber serves POST /wxa/business/getuserphonenumber.
func (s *Server) phoneNumber(q url.Values, body []byte) any {
	var req struct {
		Code   string `json:"code"`
		OpenID string `json:"openid"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if code := s.tokens.check(q.Get("access_token"), now); code != 0 {
		return s.apiError(code)
	}
	if code := decodeBody(body, &req); code != 0 {
		return s.apiError(code)
	}
	if req.Code == "" {
		return s.apiError(41008)
	}
	c := s.phoneCodes[req.Code]
	if c == nil || c.used || expired(c, now) {
		return s.apiError(40029)
	}
	u := s.users[c.openID] // users are never removed
	// Refusals that leave the code unspent, as WeChat's errcodes do
	// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html):
	// 40013 for a code of another app, 40003 (invalid openid) for an openid
	// that is not the one the code was made for, 45011 when rate limited.
	switch {
	case c.appID != s.appID:
		return s.apiError(40013)
	case req.OpenID != "" && req.OpenID != c.openID:
		return s.apiError(40003)
	case !s.allow(&u.phoneCalls, now):
		return s.apiError(45011)
	}
	c.used = true
	return phoneReply{errReply: okReply, PhoneInfo: phoneInfo{
		PhoneNumber:     u.PhoneNumber,
		PurePhoneNumber: u.PurePhoneNumber,
		CountryCode:     u.CountryCode,
		Watermark:       watermark{Timestamp: now.Unix(), AppID: s.appID},
	}}
}

// checkSession serves GET /wxa/checksession.
func (s *Server) checkSession(q url.Values, _ []byte) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, code := s.signedUser(q); code != 0 {
		return s.apiError(code)
	}
	return okReply
}

// resetReply is resetusersessionkey's success.
type resetReply struct {
	errReply
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
}

// resetSessionKey serves GET /wxa/resetusersessionkey: the user gets a new
// session_key and the old one stops working.
func (s *Server) resetSessionKey(q url.Values, _ []byte) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, code := s.signedUser(q)
	if code != 0 {
		return s.apiError(code)
	}
	u.sessionKey = newSessionKey()
	return resetReply{errReply: okReply, OpenID: u.OpenID, SessionKey: u.sessionKey}
}

// signedUser checks the access_token and the user login-state signature of a
// checksession or resetusersessionkey request, and returns the user or the
// errcode to send. s.mu must be held.
func (s *Server) signedUser(q url.Values) (*user, int) {
	if code := s.tokens.check(q.Get("access_token"), s.now()); code != 0 {
		return nil, code
	}
	if q.Get("sig_method") != "hmac_sha256" {
		return nil, 87008
	}
	u := s.users[q.Get("openid")]
	if u == nil {
		return nil, 40003
	}
	if u.sessionKey == "" {
		return nil, 87009
	}
	want, _ := hex.DecodeString(crypto.SessionKeySignature(u.sessionKey))
	got, err := hex.DecodeString(q.Get("signature")) // either case of hex
	if err != nil || !hmac.Equal(got, want) {
		return nil, 87009
	}
	return u, 0
}
