package kuaishouauthtest

import (
	"encoding/json"
	"errors"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/fakeplat"
)

// Errors of the methods that play the mini-program's part.
var (
	// ErrUnknownUser means no user has the openid.
	ErrUnknownUser = errors.New("kuaishouauthtest: unknown user")
	// ErrNotLoggedIn means the user has no session_key yet: call
	// [Server.Login] first.
	ErrNotLoggedIn = errors.New("kuaishouauthtest: user has not logged in")
)

// User is a simulated Kuaishou user of the mini-program.
type User struct {
	// OpenID is the user's open_id in this mini-program. Empty: a new
	// random one of 32 hex characters.
	OpenID string
	// NickName, Gender (0 unknown, 1 male, 2 female) and AvatarURL are the
	// profile ks.getUserInfo hands out.
	NickName  string
	Gender    int
	AvatarURL string
	// PurePhoneNumber is the number the phone-number button hands out
	// (default 13800138000), CountryCode its country code (default "86").
	PurePhoneNumber string
	CountryCode     string
}

// fill gives u the defaults and returns its openid.
func fill(u User) (string, User) {
	if u.OpenID == "" {
		u.OpenID = fakeplat.RandomString(32, fakeplat.Hex)
	}
	if u.NickName == "" {
		u.NickName = "快手用户"
	}
	if u.PurePhoneNumber == "" {
		u.PurePhoneNumber = "13800138000"
	}
	if u.CountryCode == "" {
		u.CountryCode = "86"
	}
	return u.OpenID, u
}

// AddUser registers u and returns its openid (a new random one when
// u.OpenID is empty). A user with the same openid is replaced, keeping
// their session_key.
func (s *Server) AddUser(u User) string { return s.users.Add(u) }

// Login does what ks.login does for the user with the openid (registering
// one with that openid, or a new random one for ""): it gives the user a new
// session_key and returns a code valid for [CodeTTL] and once.
func (s *Server) Login(openID string) string { return s.users.Login(openID) }

// SessionKey returns the user's current session_key.
func (s *Server) SessionKey(openID string) (string, error) {
	_, key, err := s.users.LoggedIn(openID)
	return key, err
}

// Profile is what ks.getUserInfo (or, with RawData and Signature empty,
// the phone-number button) hands the mini-program, made with the user's
// current session_key.
type Profile struct {
	// RawData is the profile as JSON, without openId or watermark.
	RawData string `json:"rawData"`
	// Signature is hex(sha1(rawData + session_key)).
	Signature string `json:"signature"`
	// EncryptedData is the profile with openId and a watermark (or the
	// phone number), AES-128-CBC under the session_key, base64.
	EncryptedData string `json:"encryptedData"`
	// IV is EncryptedData's base64 initialisation vector.
	IV string `json:"iv"`
}

type rawProfile struct {
	NickName  string `json:"nickName"`
	Gender    int    `json:"gender"`
	AvatarURL string `json:"avatarUrl"`
}

type encryptedProfile struct {
	OpenID string `json:"openId"`
	rawProfile
	Watermark watermark `json:"watermark"`
}

// watermark is the fake's watermark, in WeChat's shape: Kuaishou's page
// does not show whether its data carries one (package kuaishouauth
// accepts data without).
type watermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

type encryptedPhone struct {
	PhoneNumber     string    `json:"phoneNumber"`
	PurePhoneNumber string    `json:"purePhoneNumber"`
	CountryCode     string    `json:"countryCode"`
	Watermark       watermark `json:"watermark"`
}

// Profile returns what ks.getUserInfo hands the mini-program for the user
// now: rawData signed with sha1(rawData + session_key) and encryptedData
// (https://mp.kuaishou.com/docs/develop/functionAccessGuide/thirdPartyLogin).
func (s *Server) Profile(openID string) (Profile, error) {
	uu, key, err := s.users.LoggedIn(openID)
	if err != nil {
		return Profile{}, err
	}
	raw := rawProfile{NickName: uu.NickName, Gender: uu.Gender, AvatarURL: uu.AvatarURL}
	rawJSON, err := json.Marshal(raw)
	if err != nil {
		return Profile{}, err
	}
	ep := encryptedProfile{OpenID: uu.OpenID, rawProfile: raw, Watermark: s.watermark()}
	p, err := encrypt(key, ep)
	if err != nil {
		return Profile{}, err
	}
	p.RawData, p.Signature = string(rawJSON), crypto.Sign(key, string(rawJSON))
	return p, nil
}

// PhoneNumber returns what the phone-number button (getPhoneNumber) hands
// the mini-program for the user now: encryptedData and iv of
// {phoneNumber, purePhoneNumber, countryCode, watermark} under the
// session_key. Kuaishou has no server call for a phone code.
func (s *Server) PhoneNumber(openID string) (Profile, error) {
	uu, key, err := s.users.LoggedIn(openID)
	if err != nil {
		return Profile{}, err
	}
	full := uu.PurePhoneNumber
	if uu.CountryCode != "86" {
		full = "+" + uu.CountryCode + " " + uu.PurePhoneNumber
	}
	return encrypt(key, encryptedPhone{PhoneNumber: full, PurePhoneNumber: uu.PurePhoneNumber, CountryCode: uu.CountryCode, Watermark: s.watermark()})
}

func (s *Server) watermark() watermark {
	return watermark{Timestamp: s.cfg.s.Now().Unix(), AppID: s.appID}
}

// encrypt returns v as JSON encrypted under key with a random iv.
func encrypt(key string, v any) (Profile, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return Profile{}, err
	}
	enc, iv, err := fakeplat.Seal(key, plain)
	if err != nil {
		return Profile{}, err
	}
	return Profile{EncryptedData: enc, IV: iv}, nil
}
