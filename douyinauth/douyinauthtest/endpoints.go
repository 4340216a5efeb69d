package douyinauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/wxmp/miniauth/internal/fakeplat"
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
	}
	switch fakeplat.Credentials(req.AppID, req.Secret, s.appID, s.secret) {
	case fakeplat.CredOK:
	case fakeplat.CredBadID:
		return s.errorReply(tipsEnvelope, 40015, "")
	default:
		return s.errorReply(tipsEnvelope, 40017, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Code != "" {
		if _, _, st := s.users.Peek(req.Code); st != fakeplat.CodeOK {
			return s.errorReply(tipsEnvelope, 40018, "")
		}
	}
	if req.AnonymousCode != "" {
		if _, st := s.anonCodes.Peek(req.AnonymousCode); st != fakeplat.CodeOK {
			return s.errorReply(tipsEnvelope, 40019, "")
		}
	}
	// Both codes are good (and s.mu keeps them so): only now is either
	// used up.
	var d code2SessionData
	if req.Code != "" {
		u, key, _ := s.users.Exchange(req.Code)
		d.SessionKey, d.OpenID, d.UnionID = key, u.OpenID, u.UnionID
	}
	if req.AnonymousCode != "" {
		d.AnonymousOpenID, _ = s.anonCodes.Take(req.AnonymousCode)
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
	switch fakeplat.Credentials(req.ClientKey, req.ClientSecret, s.appID, s.secret) {
	case fakeplat.CredOK:
		return nil
	case fakeplat.CredBadID:
		return s.errorReply(oauthEnvelope, 10003, "")
	}
	return s.errorReply(oauthEnvelope, 10013, "")
}

// tokenReply is the oauth envelope's success: tok, valid for life.
func (s *Server) tokenReply(tok string, life time.Duration) oauthReply {
	r := oauthReply{
		Data:    oauthData{AccessToken: tok, ExpiresIn: int64(life / time.Second)},
		Message: "success",
	}
	r.Extra.LogID, r.Extra.Now = s.logID(), s.now().UnixMilli()
	return r
}

// clientToken serves POST /oauth/client_token/: every call issues a new
// token; the one before it stays valid for [TokenGrace] more (or less, if it
// expires first), older ones are invalid.
func (s *Server) clientToken(_ http.Header, body []byte) any {
	if e := s.tokenRequest(body); e != nil {
		return e
	}
	return s.tokenReply(s.tokens.Issue())
}

// stableClientToken serves POST /oauth/stable_client_token/: the same token,
// with the seconds it has left, until it expires; then a new one.
func (s *Server) stableClientToken(_ http.Header, body []byte) any {
	if e := s.tokenRequest(body); e != nil {
		return e
	}
	return s.tokenReply(s.stable.Issue())
}

// validToken reports whether tok is a client_token (or stable one) the
// server issued that has not expired.
func (s *Server) validToken(tok string) bool {
	return s.tokens.Check(tok) == fakeplat.TokenOK || s.stable.Check(tok) == fakeplat.TokenOK
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
	if !s.validToken(tok) {
		return s.errorReply(msgEnvelope, 28001008, "")
	}
	openID, st := s.phoneCodes.Take(req.Code)
	switch {
	case req.Code == "" || st == fakeplat.CodeUnknown:
		return s.errorReply(msgEnvelope, 28001007, "")
	case st != fakeplat.CodeOK: // used or expired
		return s.errorReply(msgEnvelope, 28005187, "")
	}
	u, _ := s.users.Get(openID)
	now := s.now()
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
