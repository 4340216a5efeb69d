package qqauthtest

import (
	"encoding/json"
	"errors"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/fakeplat"
)

// Errors of the methods that play the mini-program's part.
var (
	// ErrUnknownUser means no user has the openid.
	ErrUnknownUser = errors.New("qqauthtest: unknown user")
	// ErrNotLoggedIn means the user has no session_key yet: call
	// [Server.Login] first.
	ErrNotLoggedIn = errors.New("qqauthtest: user has not logged in")
)

// User is a simulated QQ user of the mini-program.
type User struct {
	// OpenID is the user's id in this mini-program. Empty: a new random
	// one of 32 hex characters, as QQ's look.
	OpenID string
	// UnionID is the user's id across one developer's apps. Empty:
	// code2session sends none.
	UnionID string
	// NickName, Gender (0 unknown, 1 male, 2 female) and AvatarURL are the
	// profile qq.getUserInfo hands out.
	NickName  string
	Gender    int
	AvatarURL string
}

// fill gives u the defaults and returns its openid.
func fill(u User) (string, User) {
	if u.OpenID == "" {
		u.OpenID = fakeplat.RandomString(32, "0123456789ABCDEF")
	}
	if u.NickName == "" {
		u.NickName = "QQ用户"
	}
	return u.OpenID, u
}

// AddUser registers u and returns its openid (a new random one when
// u.OpenID is empty). A user with the same openid is replaced, keeping
// their session_key.
func (s *Server) AddUser(u User) string { return s.users.Add(u) }

// Login does what qq.login does for the user with the openid (registering
// one with that openid, or a new random one for ""): it gives the user a new
// session_key and returns a code valid for [CodeTTL] and once.
func (s *Server) Login(openID string) string { return s.users.Login(openID) }

// SessionKey returns the user's current session_key.
func (s *Server) SessionKey(openID string) (string, error) {
	_, key, err := s.users.LoggedIn(openID)
	return key, err
}

// Profile is what qq.getUserInfo hands the mini-program, with QQ's field
// names, made with the user's current session_key.
type Profile struct {
	// RawData is the profile as JSON, without openId or watermark.
	RawData string `json:"rawData"`
	// Signature is hex(sha1(rawData + session_key)).
	Signature string `json:"signature"`
	// EncryptedData is the profile with openId, unionId and a watermark,
	// AES-128-CBC under the session_key, base64.
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
	UnionID   string `json:"unionId,omitempty"`
	Watermark struct {
		Timestamp int64  `json:"timestamp"`
		AppID     string `json:"appid"`
	} `json:"watermark"`
}

// Profile returns what qq.getUserInfo hands the mini-program for the user
// now (https://q.qq.com/wiki/develop/game/frame/open-ability/signature.html:
// the sha1 signature of rawData and AES-128-CBC encryptedData with a
// watermark, as WeChat's).
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
	ep := encryptedProfile{OpenID: uu.OpenID, rawProfile: raw, UnionID: uu.UnionID}
	ep.Watermark.Timestamp = s.cfg.s.Now().Unix()
	ep.Watermark.AppID = s.appID
	plain, err := json.Marshal(ep)
	if err != nil {
		return Profile{}, err
	}
	enc, iv, err := fakeplat.Seal(key, plain)
	if err != nil {
		return Profile{}, err
	}
	return Profile{RawData: string(rawJSON), Signature: crypto.Sign(key, string(rawJSON)), EncryptedData: enc, IV: iv}, nil
}
