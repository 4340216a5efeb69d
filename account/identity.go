package account

import (
	"fmt"
	"unicode/utf8"

	"github.com/wxmp/miniauth"
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

// Identity is who logs in: a platform identity (an openid of an app on a
// platform) and maybe a phone.
type Identity struct {
	// Platform is the platform of the app ([miniauth.Session.Platform]):
	// empty means [miniauth.WeChat] (identities kept before miniauth served
	// several platforms have none); any other must be one that
	// [miniauth.Platform.Known] knows. An openid and a unionid mean
	// something only on their own platform.
	Platform miniauth.Platform
	// AppID is the appid of the mini-program (or official account) the
	// openid belongs to ([miniauth.Session.AppID]). Required.
	AppID string
	// OpenID is the user's openid in that app. Required.
	OpenID string
	// UnionID is the user's unionid across the apps of one developer on
	// this platform (on WeChat: of one Open Platform account), when the
	// platform sent one. The same unionid on two platforms is two people.
	UnionID string
	// Phone is the user's phone number, when the app has one (from the
	// phone-number button: see [PhoneFrom]). It is normalised by
	// [NormalizePhone] before it is compared or stored.
	Phone string
	// PhoneBound reports that the platform tied Phone to this OpenID
	// ([miniauth.PhoneNumber.OpenID] equals it): a WeChat phone code
	// exchanged with the openid, or encrypted data made with this login's
	// session key. Only such a phone joins this identity to a user that
	// already has the phone (rule 3 of [Linker.Resolve]); Douyin's phone
	// codes and Alipay's phone responses prove the number to whoever holds
	// them, not to this openid ([WithUnboundPhoneJoin] lets them join).
	PhoneBound bool
}

// normalize checks id and returns it with its platform set (WeChat for
// "") and its phone normalised.
func (id Identity) normalize() (Identity, error) {
	id.Platform = id.Platform.OrWeChat()
	if !id.Platform.Known() {
		return id, fmt.Errorf("%w: unknown platform %q", ErrInvalidIdentity, clip(string(id.Platform)))
	}
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

// clip returns s cut to 32 bytes, for an error message (quoted with %q).
func clip(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}

// openID returns the key of id's openid.
func (id Identity) openID() OpenID {
	return OpenID{Platform: id.Platform, AppID: id.AppID, OpenID: id.OpenID}
}

// unionID returns the key of id's unionid.
func (id Identity) unionID() UnionID {
	return UnionID{Platform: id.Platform, UnionID: id.UnionID}
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
