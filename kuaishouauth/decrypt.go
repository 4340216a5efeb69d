package kuaishouauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// VerifySignature checks that signature is hex(sha1(rawData + session_key)),
// as Kuaishou signs rawData
// (https://mp.kuaishou.com/docs/develop/functionAccessGuide/thirdPartyLogin).
// A mismatch matches crypto.ErrSignature.
func (a *App) VerifySignature(sessionKey, rawData, signature string) error {
	if err := crypto.VerifySignature(sessionKey, rawData, signature); err != nil {
		return fmt.Errorf("kuaishouauth: verify signature: %w", err)
	}
	return nil
}

// Decrypt decrypts encryptedData with the session_key and iv and
// unmarshals it into v, a non-nil pointer: a [UserInfo] from
// ks.getUserInfo, a *[miniauth.PhoneNumber] from the phone-number button
// (Kuaishou has no server call that exchanges a phone code: the number
// reaches the server this way). v is left untouched when the data is
// refused.
//
// The cipher is WeChat's: AES-128-CBC with the base64 session_key as key
// and the base64 iv, padded by "PKCS#5" in Kuaishou's words
// (https://mp.kuaishou.com/docs/develop/functionAccessGuide/thirdPartyLogin),
// which for 16-byte blocks is PKCS#7. Data that does not decrypt or is not
// JSON matches crypto.ErrDecrypt, with no detail.
//
// A watermark whose appid is not this app's matches [miniauth.ErrWatermark].
// Kuaishou's page does not say that its data carries a watermark, so data
// without one is accepted: the session_key, which is this app's and this
// user's, is then what ties the data to them. Decrypted fields are not
// authenticated: an openId in them must be the session's own.
func (a *App) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("kuaishouauth: decrypt: v must be a non-nil pointer")
	}
	plain, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		return fmt.Errorf("kuaishouauth: decrypt: %w", err)
	}
	var wm struct {
		Watermark *crypto.Watermark `json:"watermark"`
	}
	if json.Unmarshal(plain, &wm) != nil {
		return fmt.Errorf("kuaishouauth: decrypt: %w", crypto.ErrDecrypt)
	}
	if wm.Watermark != nil && wm.Watermark.AppID != a.appID {
		return fmt.Errorf("kuaishouauth: decrypt: %w", miniauth.ErrWatermark)
	}
	fresh := reflect.New(reflect.TypeOf(v).Elem())
	if json.Unmarshal(plain, fresh.Interface()) != nil {
		return fmt.Errorf("kuaishouauth: decrypt: %w", crypto.ErrDecrypt)
	}
	reflect.ValueOf(v).Elem().Set(fresh.Elem())
	return nil
}

// UserInfo is the profile in ks.getUserInfo's encryptedData, with the
// field names Kuaishou shares with WeChat: [miniauth.UserInfo].
type UserInfo = miniauth.UserInfo
