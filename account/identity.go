package account

import (
	"fmt"
	"unicode/utf8"
)

// Limits of the ids a [Linker] accepts; the SQL schema of package sqlstore
// is sized for them.
const (
	// MaxIDLen is the longest AppID, OpenID or UnionID, in bytes. WeChat's
	// are 18 to 28 bytes.
	MaxIDLen = 128
	// MaxUserIDLen is the longest user id, in bytes.
	MaxUserIDLen = 255
)

// Identity is who logs in: a WeChat identity and maybe a phone.
type Identity struct {
	// AppID is the appid of the mini-program (or official account) the
	// openid belongs to ([wxauth.Session.AppID]). Required.
	AppID string
	// OpenID is the user's openid in that app. Required.
	OpenID string
	// UnionID is the user's unionid across the apps of one WeChat Open
	// Platform account, when WeChat sent one.
	UnionID string
	// Phone is the user's phone number, when the app has one (from the
	// phone-number button: see [PhoneFrom]). It is normalised by
	// [NormalizePhone] before it is compared or stored.
	Phone string
}

// normalize checks id and returns it with its phone normalised.
func (id Identity) normalize() (Identity, error) {
	if id.AppID == "" || id.OpenID == "" {
		return id, fmt.Errorf("%w: AppID and OpenID are required", ErrInvalidIdentity)
	}
	for _, f := range [...]struct{ name, v string }{{"AppID", id.AppID}, {"OpenID", id.OpenID}, {"UnionID", id.UnionID}} {
		if !validID(f.v) {
			return id, fmt.Errorf("%w: %s must be at most %d bytes of printable ASCII without spaces", ErrInvalidIdentity, f.name, MaxIDLen)
		}
	}
	if id.Phone != "" {
		p, err := NormalizePhone(id.Phone)
		if err != nil {
			return id, err
		}
		id.Phone = p
	}
	return id, nil
}

// validID reports whether s is at most MaxIDLen bytes of printable ASCII
// without spaces, the form of WeChat's appids, openids and unionids. The
// empty string is valid (an absent id).
func validID(s string) bool {
	if len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// checkUserID reports an error when userID is not a user id a store keeps:
// empty, over MaxUserIDLen bytes, not UTF-8, or holding a NUL.
func checkUserID(userID string) error {
	if userID == "" || len(userID) > MaxUserIDLen || !utf8.ValidString(userID) {
		return fmt.Errorf("%w: a user id must be 1 to %d bytes of UTF-8", ErrInvalidIdentity, MaxUserIDLen)
	}
	for i := 0; i < len(userID); i++ {
		if userID[i] == 0 {
			return fmt.Errorf("%w: a user id must not hold NUL", ErrInvalidIdentity)
		}
	}
	return nil
}
