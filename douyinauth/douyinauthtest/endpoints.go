package douyinauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// code2SessionData is jscode2session's data, in Douyin's field order.
type code2SessionData struct {
	SessionKey      string `json:"session_key"`
	OpenID          string `json:"openid"`
	AnonymousOpenID string `json:"anonymous_openid"`
	UnionID         string `json:"unionid"`
	DOpenID         string `json:"dopenid"` // seen empty in replies developers posted
}

// code2Session serves POST /api/apps/v2/jscode2session, JSON {appid, secret,
// code, anonymous_code}.
func (s *Server) code2Session(_ http.Header, body []byte) any {
	var req struct {
		AppID         string `json:"appid"`
		Secret        string `json:"secret"`
		Code          string `json:"code"`
		AnonymousCode string `json:"anonymous_code"`
	}
	if json.Unmarshal(body, &req) != nil {
		return s.errorReply(tipsEnvelope, 40014, "")
	}
	switch {
	case req.AppID == "" || req.Secret == "" || (req.Code == "" && req.AnonymousCode == ""):
		return s.errorReply(tipsEnvelope, 40014, "")
	case req.AppID != s.appID:
		return s.errorReply(tipsEnvelope, 40015, "")
	case !constEq(req.Secret, s.secret):
		return s.errorReply(tipsEnvelope, 40017, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	var login, anon *issuedCode
	if req.Code != "" {
		if login = s.codes[req.Code]; login == nil || login.used || expired(login, now) {
			return s.errorReply(tipsEnvelope, 40018, "")
		}
	}
	if req.AnonymousCode != "" {
		if anon = s.anonCodes[req.AnonymousCode]; anon == nil || anon.used || expired(anon, now) {
			return s.errorReply(tipsEnvelope, 40019, "")
		}
	}
	// Both codes are good: only now is either used up.
	var d code2SessionData
	if login != nil {
		login.used = true
		u := s.users[login.openID]
		d.SessionKey, d.OpenID, d.UnionID = u.sessionKey, u.OpenID, u.UnionID
	}
	if anon != nil {
		anon.used = true
		d.AnonymousOpenID = anon.openID
	}
	return tipsReply{ErrNo: 0, ErrTips: "success", LogID: s.logID(), Data: d}
}

// tokenRequest checks a client_token request's body; it returns the error
// reply, or nil.
func (s *Server) tokenRequest(body []byte) any {
	var req struct {
		ClientKey    string `json:"client_key"`
		ClientSecret string `json:"client_secret"`
		GrantType    string `json:"grant_type"`
	}
	if json.Unmarshal(body, &req) != nil || req.ClientKey == "" || req.ClientSecret == "" || req.GrantType != "client_credential" {
		return s.errorReply(oauthEnvelope, 10002, "")
	}
	if req.ClientKey != s.appID {
		return s.errorReply(oauthEnvelope, 10003, "")
	}
	if !constEq(req.ClientSecret, s.secret) {
		return s.errorReply(oauthEnvelope, 10013, "")
	}
	return nil
}

// tokenReply is the oauth envelope's success.
func (s *Server) tokenReply(t issuedToken, now time.Time) oauthReply {
	r := oauthReply{
		Data:    oauthData{AccessToken: t.token, ExpiresIn: int64(t.expiresAt.Sub(now) / time.Second)},
		Message: "success",
	}
	r.Extra.LogID, r.Extra.Now = s.logID(), now.UnixMilli()
	return r
}

// clientToken serves POST /oauth/client_token/: every call issues a new
// token; the one before it stays valid for [TokenGrace] more (or less, if it
// expires first), older ones are invalid.
func (s *Server) clientToken(_ http.Header, body []byte) any {
	if e := s.tokenRequest(body); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := issuedToken{token: "clt." + randomString(56, hexAlphabet), expiresAt: now.Add(TokenTTL)}
	if n := len(s.tokens); n > 0 {
		prev := s.tokens[n-1]
		if grace := now.Add(TokenGrace); grace.Before(prev.expiresAt) {
			prev.expiresAt = grace
		}
		s.tokens = []issuedToken{prev, t}
	} else {
		s.tokens = []issuedToken{t}
	}
	return s.tokenReply(t, now)
}

// stableClientToken serves POST /oauth/stable_client_token/: the same token,
// with the seconds it has left, until it expires; then a new one.
func (s *Server) stableClientToken(_ http.Header, body []byte) any {
	if e := s.tokenRequest(body); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.stable.token == "" || !now.Before(s.stable.expiresAt) {
		s.stable = issuedToken{token: "clt." + randomString(56, hexAlphabet), expiresAt: now.Add(TokenTTL)}
	}
	return s.tokenReply(s.stable, now)
}

// validToken reports whether tok is a client_token the server issued that
// has not expired. s.mu must be held.
func (s *Server) validToken(tok string, now time.Time) bool {
	if tok == "" {
		return false
	}
	for _, t := range s.tokens {
		if constEq(t.token, tok) {
			return now.Before(t.expiresAt)
		}
	}
	return s.stable.token != "" && constEq(s.stable.token, tok) && now.Before(s.stable.expiresAt)
}

// phonePlain is the plaintext of get_phonenumber_info's data, with the
// field names of Douyin's phone data.
type phonePlain struct {
	PhoneNumber     string    `json:"phoneNumber"`
	PurePhoneNumber string    `json:"purePhoneNumber"`
	CountryCode     string    `json:"countryCode"`
	Watermark       watermark `json:"watermark"`
}

// watermark is the watermark of decrypted data.
type watermark struct {
	AppID     string `json:"appid"`
	Timestamp int64  `json:"timestamp"`
}

// phoneNumber serves POST /api/apps/v1/get_phonenumber_info/ with header
// access-token and JSON {code}: data is the base64 of the phone number's
// JSON encrypted with the app public key (RSA, PKCS#1 v1.5).
func (s *Server) phoneNumber(h http.Header, body []byte) any {
	var req struct {
		Code string `json:"code"`
	}
	tok := h.Get("access-token")
	if json.Unmarshal(body, &req) != nil || tok == "" {
		return s.errorReply(msgEnvelope, 28001007, "")
	}
	pub, err := s.keys()
	if err != nil {
		return s.errorReply(msgEnvelope, 28001005, "")
	}
	s.mu.Lock()
	now := s.now()
	if !s.validToken(tok, now) {
		s.mu.Unlock()
		return s.errorReply(msgEnvelope, 28001008, "")
	}
	c := s.phoneCodes[req.Code]
	switch {
	case req.Code == "" || c == nil:
		s.mu.Unlock()
		return s.errorReply(msgEnvelope, 28001007, "")
	case c.used || expired(c, now):
		s.mu.Unlock()
		return s.errorReply(msgEnvelope, 28005187, "")
	}
	c.used = true
	u := s.users[c.openID].User
	s.mu.Unlock()
	plain := marshalUnescaped(phonePlain{
		PhoneNumber:     u.PhoneNumber,
		PurePhoneNumber: u.PurePhoneNumber,
		CountryCode:     u.CountryCode,
		Watermark:       watermark{AppID: s.appID, Timestamp: now.Unix()},
	})
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, plain)
	if err != nil { // a phone number too long for the key
		return s.errorReply(msgEnvelope, 28001005, "")
	}
	return msgReply{ErrNo: 0, ErrMsg: "", LogID: s.logID(), Data: base64.StdEncoding.EncodeToString(ct)}
}
