package douyinauthtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/fakeplat"
)

// Errors of the methods that play the mini-app's part, for [errors.Is].
var (
	// ErrUnknownUser means no user has the openid.
	ErrUnknownUser = errors.New("douyinauthtest: unknown user")
	// ErrNotLoggedIn means the user has no session_key yet: call
	// [Server.Login] first.
	ErrNotLoggedIn = errors.New("douyinauthtest: user has not logged in")
)

// Defaults a registered [User] gets for the fields left empty.
const (
	DefaultNickName    = "抖音用户"
	DefaultPhoneNumber = "13800138000"
	DefaultCountryCode = "86"
)

// User is a simulated Douyin user of the mini-app.
type User struct {
	// OpenID is the user's id in this mini-app. Empty: a new random one.
	OpenID string
	// UnionID is the user's id across the developer's apps. Empty: none is
	// sent.
	UnionID string
	// NickName and AvatarURL are the profile tt.getUserInfo hands out.
	NickName  string
	AvatarURL string
	// PhoneNumber has the country code for numbers outside mainland China;
	// PurePhoneNumber is without it; CountryCode is such as "86".
	PhoneNumber     string
	PurePhoneNumber string
	CountryCode     string
}

func (u User) withDefaults() User {
	if u.OpenID == "" {
		u.OpenID = "_000" + fakeplat.RandomString(40, fakeplat.URLSafe)
	}
	if u.NickName == "" {
		u.NickName = DefaultNickName
	}
	if u.CountryCode == "" {
		u.CountryCode = DefaultCountryCode
	}
	if u.PurePhoneNumber == "" && u.PhoneNumber == "" {
		u.PurePhoneNumber = DefaultPhoneNumber
	}
	if u.PurePhoneNumber == "" {
		u.PurePhoneNumber = u.PhoneNumber
	}
	if u.PhoneNumber == "" {
		u.PhoneNumber = u.PurePhoneNumber
		if u.CountryCode != DefaultCountryCode {
			u.PhoneNumber = "+" + u.CountryCode + " " + u.PurePhoneNumber
		}
	}
	return u
}

// fill gives u the defaults and returns its openid.
func fill(u User) (string, User) {
	u = u.withDefaults()
	return u.OpenID, u
}

// AddUser registers u and returns its openid (a new random one when
// u.OpenID is empty). A user with the same openid is replaced, keeping their
// session_key and codes.
func (s *Server) AddUser(u User) string { return s.users.Add(u) }

// Login does what tt.login does for a user logged in to the host app: it
// gives the user a new session_key and returns a new code for
// jscode2session, valid for [CodeTTL] and once. An openid no user has
// registers one; an empty openid registers one with a new random openid.
func (s *Server) Login(openID string) string { return s.users.Login(openID) }

// AnonymousCode returns the anonymousCode tt.login hands out on a device,
// for the anonymous openid (a new random one when empty), valid for
// [CodeTTL] and once. jscode2session answers it with the anonymous_openid
// alone: no session_key, no unionid.
func (s *Server) AnonymousCode(anonymousOpenID string) string {
	if anonymousOpenID == "" {
		anonymousOpenID = "_000" + fakeplat.RandomString(40, fakeplat.URLSafe)
	}
	return s.anonCodes.Issue(anonymousOpenID, 32)
}

// SessionKey returns the user's current session_key. It fails with
// [ErrUnknownUser] or [ErrNotLoggedIn].
func (s *Server) SessionKey(openID string) (string, error) {
	_, key, err := s.users.LoggedIn(openID)
	return key, err
}

// PhoneCode returns the code the phone-number button (open-type
// getPhoneNumber, base library 3.51.0 and later) hands the mini-app for the
// user, for get_phonenumber_info: valid for [CodeTTL] and once. It fails
// with [ErrUnknownUser].
func (s *Server) PhoneCode(openID string) (string, error) {
	if _, ok := s.users.Get(openID); !ok {
		return "", fmt.Errorf("%s: openid %q: %w", name, openID, ErrUnknownUser)
	}
	return s.phoneCodes.IssueOf(openID, 64, fakeplat.Hex), nil
}

// Profile is what tt.getUserInfo (withCredentials) hands the mini-app.
type Profile struct {
	// RawData is the profile as JSON, without openId or watermark.
	RawData string `json:"rawData"`
	// Signature is hex(sha1(rawData + session_key)).
	Signature string `json:"signature"`
	// EncryptedData is the profile with openId and a watermark, encrypted
	// with AES-128-CBC under the session_key, in base64.
	EncryptedData string `json:"encryptedData"`
	// IV is the base64 initialisation vector of EncryptedData.
	IV string `json:"iv"`
}

type rawProfile struct {
	NickName  string `json:"nickName"`
	AvatarURL string `json:"avatarUrl"`
	Gender    int    `json:"gender"`
	City      string `json:"city"`
	Province  string `json:"province"`
	Country   string `json:"country"`
	Language  string `json:"language"`
}

type encryptedProfile struct {
	OpenID string `json:"openId"`
	rawProfile
	Watermark watermark `json:"watermark"`
}

// Profile returns what tt.getUserInfo hands the mini-app for the user now,
// made with their current session_key (the shape of
// https://developer.open-douyin.com/docs/resource/zh-CN/mini-game/develop/api/open-capacity/user-information/info/sensitive-data-process).
// It fails with [ErrUnknownUser] or [ErrNotLoggedIn].
func (s *Server) Profile(openID string) (Profile, error) {
	u, key, err := s.users.LoggedIn(openID)
	if err != nil {
		return Profile{}, err
	}
	raw := rawProfile{NickName: u.NickName, AvatarURL: u.AvatarURL}
	rawData := marshalUnescaped(raw)
	plain := marshalUnescaped(encryptedProfile{OpenID: u.OpenID, rawProfile: raw,
		Watermark: watermark{AppID: s.appID, Timestamp: s.now().Unix()}})
	data, iv, err := fakeplat.Seal(key, plain)
	if err != nil { // unreachable: the key and iv are 16 random bytes
		return Profile{}, fmt.Errorf("%s: encrypt profile: %w", name, err)
	}
	return Profile{RawData: string(rawData), Signature: crypto.Sign(key, string(rawData)), EncryptedData: data, IV: iv}, nil
}

// marshalUnescaped encodes v without escaping <, > and &.
func marshalUnescaped(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v) // cannot fail: plain structs of strings and numbers
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Clock is a manual clock for [WithClock]: it stands still until advanced.
// It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time. Pass the method value, c.Now, to [WithClock].
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
