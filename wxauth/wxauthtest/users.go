package wxauthtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wxmp/miniauth/crypto"
)

// Errors of the methods that play the mini-program's part, for [errors.Is].
var (
	// ErrUnknownUser means no user has the openid: neither [Server.AddUser]
	// nor [Server.Login] registered it.
	ErrUnknownUser = errors.New("wxauthtest: unknown user")
	// ErrNotLoggedIn means the user has no session_key yet: call
	// [Server.Login] first.
	ErrNotLoggedIn = errors.New("wxauthtest: user has not logged in")
)

// Defaults a registered [User] gets for the fields left empty.
const (
	// DefaultNickName is the nickname WeChat has sent since 2022 for a user
	// who did not fill one in.
	DefaultNickName = "微信用户"
	// DefaultLanguage is the language of a user who has none.
	DefaultLanguage = "zh_CN"
	// DefaultPhoneNumber is the phone number of the first user of a
	// server who has none (a well-known test number in mainland China).
	// Each later one gets the next number (13800138001, ...), so that
	// users are distinct people to an application that keys users by phone.
	DefaultPhoneNumber = "13800138000"
	// DefaultAvatarURL is the grey avatar WeChat sends in the profile of
	// wx.getUserProfile and wx.getUserInfo since late 2022, whoever the
	// user is (WeChat's announcement of 2022-09 on the profile APIs,
	// reproduced at https://blog.youkuaiyun.com/sunsineq/article/details/128091521:
	// "统一返回默认灰色头像"); the URL is the one mini-programs receive, as
	// their code shows it.
	DefaultAvatarURL = "https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132"
	// DefaultCountryCode is the country code of a user who has none.
	DefaultCountryCode = "86"
)

// User is a simulated WeChat user of the mini-program: what the server knows
// about them and hands out through Profile, PhoneCode and the APIs.
type User struct {
	// OpenID is the user's id in this mini-program. Empty: a new random one,
	// 28 characters starting with "o" like WeChat's.
	OpenID string
	// UnionID is the user's id across one Open Platform account's apps.
	// Empty: jscode2session sends none, as for an app bound to no account.
	UnionID string

	// The profile wx.getUserProfile hands out. Gender is 0 (unknown),
	// 1 (male) or 2 (female). As WeChat's, a profile is stingy unless the
	// test sets these: the nickname [DefaultNickName], the grey
	// [DefaultAvatarURL], gender 0 and an empty city, province and country
	// (WeChat has sent them empty since 2021).
	NickName  string
	Gender    int
	City      string
	Province  string
	Country   string
	Language  string
	AvatarURL string

	// PhoneNumber has the country code for numbers outside mainland China;
	// PurePhoneNumber is without it; CountryCode is such as "86".
	PhoneNumber     string
	PurePhoneNumber string
	CountryCode     string

	// Blocked marks a user WeChat rates as high risk: jscode2session
	// refuses their codes with errcode 40226.
	Blocked bool
}

// withDefaults returns u with empty fields filled in; phones numbers the
// users given a default phone number so far (the caller holds the
// server's lock).
func (u User) withDefaults(phones *int) User {
	if u.PurePhoneNumber == "" && u.PhoneNumber == "" {
		n, _ := strconv.ParseInt(DefaultPhoneNumber, 10, 64)
		u.PurePhoneNumber = strconv.FormatInt(n+int64(*phones), 10)
		*phones++
	}
	if u.OpenID == "" {
		u.OpenID = "o" + randomString(27, urlAlphabet)
	}
	if u.NickName == "" {
		u.NickName = DefaultNickName
	}
	if u.Language == "" {
		u.Language = DefaultLanguage
	}
	if u.CountryCode == "" {
		u.CountryCode = DefaultCountryCode
	}
	if u.AvatarURL == "" {
		u.AvatarURL = DefaultAvatarURL
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

// user is a registered user and their state.
type user struct {
	User
	sessionKey string      // current session_key; "" until the first Login
	keys       keyState    // its expiry and the key it replaced
	recent     []time.Time // jscode2session calls in the last minute
	phoneCalls []time.Time // getuserphonenumber calls in the last minute
}

// issuedCode is a login code or a phone code.
type issuedCode struct {
	openID string
	issued time.Time
	used   bool
	appID  string // phone codes: the app the code was made for
}

// AddUser registers u and returns its openid (a new random one when
// u.OpenID is empty), filling the empty profile fields with the defaults
// ([DefaultNickName], [DefaultLanguage], [DefaultAvatarURL], a phone number
// of its own from [DefaultPhoneNumber] on, [DefaultCountryCode]). A user with the same openid is replaced, keeping
// their session_key and codes.
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u = u.withDefaults(&s.phones)
	if old := s.users[u.OpenID]; old != nil {
		old.User = u
	} else {
		s.users[u.OpenID] = &user{User: u}
	}
	return u.OpenID
}

// User returns the registered user with the openid, as [Server.AddUser]
// filled it in.
func (s *Server) User(openID string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[openID]
	if u == nil {
		return User{}, false
	}
	return u.User, true
}

// Login does what wx.login does for the user with the openid: it gives the
// user a new session_key (data encrypted under the old one no longer
// decrypts with it, and checksession with it fails) and returns a new code
// for jscode2session, valid for [CodeTTL] and once.
//
// An openid no user has registers a user with the default profile; an empty
// openid registers one with a new random openid.
func (s *Server) Login(openID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	u := s.users[openID]
	if u == nil {
		u = &user{User: User{OpenID: openID}.withDefaults(&s.phones)}
		s.users[u.OpenID] = u
	}
	s.rotateKey(u, now, true)
	code := randomString(32, alnumAlphabet)
	s.codes[code] = &issuedCode{openID: u.OpenID, issued: now}
	return code
}

// SessionKey returns the user's current session_key, the one jscode2session
// hands out. It fails with [ErrUnknownUser] or [ErrNotLoggedIn].
func (s *Server) SessionKey(openID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.loggedIn(openID)
	if err != nil {
		return "", err
	}
	return u.sessionKey, nil
}

// loggedIn returns the user with the openid, who must have a session_key.
func (s *Server) loggedIn(openID string) (*user, error) {
	u := s.users[openID]
	if u == nil {
		return nil, fmt.Errorf("wxauthtest: openid %q: %w", openID, ErrUnknownUser)
	}
	if u.sessionKey == "" {
		return nil, fmt.Errorf("wxauthtest: openid %q: %w", openID, ErrNotLoggedIn)
	}
	return u, nil
}

// Profile is what wx.getUserProfile (or wx.getUserInfo, see
// [Server.UserInfo]) hands the mini-program, made with the user's
// session_key at the time of the call. Its JSON field names are WeChat's, so
// it can be posted as (part of) a login request body.
type Profile struct {
	// RawData is the profile as JSON, without openId, unionId or watermark.
	RawData string `json:"rawData"`
	// Signature is hex(sha1(rawData + session_key)).
	Signature string `json:"signature"`
	// EncryptedData is the profile with a watermark (and, from
	// [Server.UserInfo], openId and unionId), encrypted with AES-128-CBC
	// under the session_key, in base64.
	EncryptedData string `json:"encryptedData"`
	// IV is the base64 initialisation vector of EncryptedData.
	IV string `json:"iv"`
}

// rawProfile is rawData, with WeChat's field names and order.
type rawProfile struct {
	NickName  string `json:"nickName"`
	Gender    int    `json:"gender"`
	Language  string `json:"language"`
	City      string `json:"city"`
	Province  string `json:"province"`
	Country   string `json:"country"`
	AvatarURL string `json:"avatarUrl"`
}

// encryptedProfile is the plaintext of encryptedData. The fake keeps its own
// wire types, not wxauth's, so that end-to-end tests check wxauth's field
// names against WeChat's rather than against themselves.
type encryptedProfile struct {
	OpenID string `json:"openId,omitempty"`
	rawProfile
	UnionID   string    `json:"unionId,omitempty"`
	Watermark watermark `json:"watermark"`
}

// watermark is WeChat's watermark, in its field order.
type watermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

// Profile returns what wx.getUserProfile hands the mini-program for the user
// now: rawData and its signature, and encryptedData with its iv, all made
// with the user's current session_key. As WeChat's, its encryptedData
// carries no openId and no unionId ("wx.getUserProfile 返回的加密数据中不包含
// openId 和 unionId 字段", the tip of
// https://developers.weixin.qq.com/miniprogram/dev/api/open-api/user-info/wx.getUserProfile.html):
// a profile, not an identity. [Server.UserInfo] gives the getUserInfo shape,
// which has both.
//
// A later [Server.Login] rotates the key, after which this Profile no longer
// verifies or decrypts with the session_key jscode2session hands out. It
// fails with [ErrUnknownUser] or [ErrNotLoggedIn].
func (s *Server) Profile(openID string) (Profile, error) {
	return s.profile(openID, false)
}

// UserInfo returns what wx.getUserInfo (with withCredentials) hands the
// mini-program for the user now: as [Server.Profile], but its encryptedData
// also carries the user's openId and, when they have one, unionId, as
// https://developers.weixin.qq.com/miniprogram/dev/api/open-api/user-info/wx.getUserInfo.html
// shows it. It fails with [ErrUnknownUser] or [ErrNotLoggedIn].
func (s *Server) UserInfo(openID string) (Profile, error) {
	return s.profile(openID, true)
}

// profile makes a Profile, with the ids in encryptedData when withIDs.
func (s *Server) profile(openID string, withIDs bool) (Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.loggedIn(openID)
	if err != nil {
		return Profile{}, err
	}
	raw := rawProfile{
		NickName:  u.NickName,
		Gender:    u.Gender,
		Language:  u.Language,
		City:      u.City,
		Province:  u.Province,
		Country:   u.Country,
		AvatarURL: u.AvatarURL,
	}
	rawData := marshalUnescaped(raw)
	enc := encryptedProfile{
		rawProfile: raw,
		Watermark:  watermark{Timestamp: s.now().Unix(), AppID: s.appID},
	}
	if withIDs {
		enc.OpenID, enc.UnionID = u.OpenID, u.UnionID
	}
	iv := base64.StdEncoding.EncodeToString(randomBytes(16))
	data, err := crypto.Encrypt(u.sessionKey, iv, marshalUnescaped(enc))
	if err != nil { // unreachable: the key and iv are 16 random bytes
		return Profile{}, fmt.Errorf("wxauthtest: encrypt profile: %w", err)
	}
	s.produced.remember(data, s.now())
	return Profile{
		RawData:       string(rawData),
		Signature:     crypto.Sign(u.sessionKey, string(rawData)),
		EncryptedData: data,
		IV:            iv,
	}, nil
}

// marshalUnescaped encodes v as WeChat does: without escaping <, > and &.
func marshalUnescaped(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v) // cannot fail: plain structs of strings and numbers
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// PhoneCode returns the code the phone-number button (open-type
// getPhoneNumber) hands the mini-program for the user, for
// /wxa/business/getuserphonenumber: valid for [CodeTTL] and once. It needs a
// registered user, not a login, and fails with [ErrUnknownUser].
//
// getuserphonenumber refuses the code with errcode 40003 (invalid openid)
// when the request names another user's openid, and with 45011 when the
// user has made more calls in the last minute than [WithRateLimit] allows.
func (s *Server) PhoneCode(openID string) (string, error) {
	return s.phoneCode(openID, s.appID)
}

// ForeignPhoneCode returns a phone code that the phone-number button of
// another mini-program handed the user: getuserphonenumber refuses it with
// errcode 40013 (invalid appid), as WeChat does for a code that was not
// made for the app whose access_token the request carries
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html).
// It fails with [ErrUnknownUser].
func (s *Server) ForeignPhoneCode(openID string) (string, error) {
	return s.phoneCode(openID, "wx"+randomString(16, "0123456789abcdef"))
}

func (s *Server) phoneCode(openID, appID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[openID] == nil {
		return "", fmt.Errorf("wxauthtest: openid %q: %w", openID, ErrUnknownUser)
	}
	now := s.now()
	s.sweep(now)
	code := hex.EncodeToString(randomBytes(32))
	s.phoneCodes[code] = &issuedCode{openID: openID, issued: now, appID: appID}
	return code, nil
}

// sweep forgets expired codes, at most once a minute of the server's clock,
// so that a long-running server does not grow. s.mu must be held.
func (s *Server) sweep(now time.Time) {
	if !now.Before(s.lastSweep) && now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for _, m := range []map[string]*issuedCode{s.codes, s.phoneCodes} {
		for k, c := range m {
			if expired(c, now) {
				delete(m, k)
			}
		}
	}
}

// expired reports whether a code is past its [CodeTTL].
func expired(c *issuedCode, now time.Time) bool { return now.Sub(c.issued) >= CodeTTL }

// Alphabets of the random values the server issues.
const (
	alnumAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	urlAlphabet   = alnumAlphabet + "-_"
)

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return b
}

// randomString returns n characters drawn uniformly from alphabet (at most
// 256 characters).
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	out := make([]byte, 0, n)
	for len(out) < n {
		for _, b := range randomBytes(n) {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// newSessionKey returns a session_key as WeChat issues them: base64 of 16
// random bytes.
func newSessionKey() string { return base64.StdEncoding.EncodeToString(randomBytes(16)) }
