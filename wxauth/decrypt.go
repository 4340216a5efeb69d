package wxauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// VerifySignature checks that signature is the sha1 signature WeChat made of
// rawData with sessionKey (see [crypto.VerifySignature]). A mismatch is
// [crypto.ErrSignature].
func (a *App) VerifySignature(sessionKey, rawData, signature string) error {
	if err := crypto.VerifySignature(sessionKey, rawData, signature); err != nil {
		return fmt.Errorf("wxauth: verify signature: %w", err)
	}
	return nil
}

// Decrypt decrypts encryptedData with sessionKey and iv, checks that its
// watermark names this app, and unmarshals it into v (a non-nil pointer,
// typically to a [UserInfo] or a [PhoneNumber]).
//
// Data that does not decrypt, or decrypts to something that is not JSON, is
// [crypto.ErrDecrypt], with the same text either way (no padding oracle). A
// watermark with another appid, or none, is [ErrWatermark]. A bad key or iv is
// [crypto.ErrInvalidSessionKey] or [crypto.ErrInvalidIV].
//
// CBC has no integrity, and the client picks the iv, so it controls the
// first block of the plaintext: a tampered ciphertext can decrypt, with valid
// padding and watermark, into other fields or another identity. Decrypted
// data is never an identity (that comes from code2session) and its fields
// are not authenticated (a signed rawData is, see [App.VerifySignature]); an
// openId or unionId it carries must be the session's own.
func (a *App) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("wxauth: decrypt: v must be a non-nil pointer")
	}
	plain, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		return fmt.Errorf("wxauth: decrypt: %w", err)
	}
	// The payload types of this package carry their watermark: one parse
	// does. Any other v needs the watermark parsed on its own first, so
	// that v is left untouched when the data is refused.
	switch p := v.(type) {
	case *UserInfo:
		return decodeChecked(plain, p, a.appID, func(u *UserInfo) crypto.Watermark { return u.Watermark })
	case *PhoneNumber:
		return decodeChecked(plain, p, a.appID, func(n *PhoneNumber) crypto.Watermark { return n.Watermark })
	}
	var wm struct {
		Watermark crypto.Watermark `json:"watermark"`
	}
	if json.Unmarshal(plain, &wm) != nil {
		return fmt.Errorf("wxauth: decrypt: %w", crypto.ErrDecrypt)
	}
	if wm.Watermark.AppID != a.appID {
		return fmt.Errorf("wxauth: decrypt: %w", ErrWatermark)
	}
	if json.Unmarshal(plain, v) != nil {
		return fmt.Errorf("wxauth: decrypt: %w", crypto.ErrDecrypt)
	}
	return nil
}

// decodeChecked unmarshals plain into a fresh T, checks its watermark
// (read by wm) against appID, and only then stores it in dst.
func decodeChecked[T any](plain []byte, dst *T, appID string, wm func(*T) crypto.Watermark) error {
	var v T
	if json.Unmarshal(plain, &v) != nil {
		return fmt.Errorf("wxauth: decrypt: %w", crypto.ErrDecrypt)
	}
	if wm(&v).AppID != appID {
		return fmt.Errorf("wxauth: decrypt: %w", ErrWatermark)
	}
	*dst = v
	return nil
}

// UserInfo is the user profile in the encryptedData of wx.getUserProfile
// (and the older wx.getUserInfo). Since 2022 WeChat sends a placeholder
// nickname and avatar unless the user fills them in. OpenID and UnionID are
// empty for wx.getUserProfile, whose encryptedData carries neither
// (https://developers.weixin.qq.com/miniprogram/dev/api/open-api/user-info/wx.getUserProfile.html);
// wx.getUserInfo's carries both.
//
// It is [miniauth.UserInfo], the type every platform decrypts into.
type UserInfo = miniauth.UserInfo

// PhoneNumber is a user's phone number, from the encryptedData of the
// phone-number button or from getuserphonenumber's phone_info. It is
// [miniauth.PhoneNumber], the type every platform returns.
type PhoneNumber = miniauth.PhoneNumber
