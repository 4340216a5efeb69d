package miniauth

import (
	"encoding/json"
	"errors"

	"github.com/wxmp/miniauth/crypto"
)

// PhoneNumber is a user's phone number as a platform gives it.
type PhoneNumber struct {
	// PhoneNumber has the country code for numbers outside mainland China.
	PhoneNumber string `json:"phoneNumber"`
	// PurePhoneNumber is the number without its country code.
	PurePhoneNumber string `json:"purePhoneNumber"`
	// CountryCode is the country calling code, such as "86". WeChat sends it
	// as a string or a number; both decode. Empty where the platform sends
	// none (Alipay: mainland numbers).
	CountryCode string `json:"countryCode"`
	// Watermark is the appid and time the platform stamped on the number,
	// where it stamps one (WeChat, QQ, Douyin, Kuaishou); zero elsewhere.
	Watermark crypto.Watermark `json:"watermark"`
	// OpenID is the openid of the user the platform checked the number was
	// given to: set by a [PhoneExchanger] asked with [ForOpenID] on a
	// platform that refuses another user's phone code (WeChat). Empty when
	// the platform ties the number to no user: Douyin's phone code works
	// for any user of the app, and Alipay's phone response is the same
	// string at every press, so whoever holds one holds the number. Never
	// encoded.
	OpenID string `json:"-"`
}

// UnmarshalJSON decodes a PhoneNumber whose countryCode is a string or a number.
func (p *PhoneNumber) UnmarshalJSON(b []byte) error {
	type plain PhoneNumber
	var aux struct {
		plain
		CountryCode json.RawMessage `json:"countryCode"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*p = PhoneNumber(aux.plain)
	cc := aux.CountryCode
	switch {
	case len(cc) == 0 || string(cc) == "null":
		p.CountryCode = ""
	case cc[0] == '"':
		if err := json.Unmarshal(cc, &p.CountryCode); err != nil {
			return err
		}
	default:
		var n json.Number
		if err := json.Unmarshal(cc, &n); err != nil {
			return errors.New("miniauth: countryCode is neither a string nor a number")
		}
		p.CountryCode = n.String()
	}
	return nil
}

// UserInfo is the profile in the encryptedData of a mini-program's user-info
// call (WeChat's wx.getUserProfile and older wx.getUserInfo, and their
// siblings on QQ, Douyin and Kuaishou; a platform whose profile has other
// field names fills these). Since 2022 WeChat sends a placeholder nickname
// and avatar unless the user fills them in, and wx.getUserProfile's data
// carries no openId and no unionId. Decrypted fields are not authenticated
// (AES-CBC has no integrity): a profile, never an identity.
type UserInfo struct {
	OpenID    string           `json:"openId,omitempty"`
	UnionID   string           `json:"unionId,omitempty"`
	NickName  string           `json:"nickName"`
	Gender    int              `json:"gender"` // 0 unknown, 1 male, 2 female
	Language  string           `json:"language"`
	City      string           `json:"city"`
	Province  string           `json:"province"`
	Country   string           `json:"country"`
	AvatarURL string           `json:"avatarUrl"`
	Watermark crypto.Watermark `json:"watermark"`
}
