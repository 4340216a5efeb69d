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
	return s.redeemCode(q.Get("js_code"))
}

// redeemCode exchanges a login code for the user's session, or returns
// WeChat's error: the part of jscode2session after the app's credentials
// are checked, which the component's jscode2session shares.
func (s *Server) redeemCode(jsCode string) any {
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
	if _, code := s.signedUser(q, 87009); code != 0 {
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
// session_key, which keeps the old one's expiry, and the old one stops
// working. A key that expired, or was replaced, is refused with 87007.
func (s *Server) resetSessionKey(q url.Values, _ []byte) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, code := s.signedUser(q, 87007)
	if code != 0 {
		return s.apiError(code)
	}
	s.rotateKey(u, s.now(), false)
	return resetReply{errReply: okReply, OpenID: u.OpenID, SessionKey: u.sessionKey}
}

// signedUser checks the access_token and the user login-state signature of a
// checksession or resetusersessionkey request, and returns the user or the
// errcode to send: stale for a signature of the user's current key after it
// expired, or of the key it replaced. s.mu must be held.
func (s *Server) signedUser(q url.Values, stale int) (*user, int) {
	now := s.now()
	if code := s.tokens.check(q.Get("access_token"), now); code != 0 {
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
	got, err := hex.DecodeString(q.Get("signature")) // either case of hex
	switch {
	case err != nil:
		return nil, 87009
	case signedWith(got, u.sessionKey):
		if u.keys.expired(now) {
			return nil, stale
		}
		return u, 0
	case signedWith(got, u.keys.stale):
		return nil, stale
	}
	return nil, 87009
}

// signedWith reports whether sig is the login-state signature of key.
func signedWith(sig []byte, key string) bool {
	if key == "" {
		return false
	}
	want, _ := hex.DecodeString(crypto.SessionKeySignature(key))
	return hmac.Equal(sig, want)
}
