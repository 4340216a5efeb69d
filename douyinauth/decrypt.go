package douyinauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/wxmp/miniauth/crypto"
)

// VerifySignature checks that signature is hex(sha1(rawData + session_key)),
// as Douyin signs the rawData of tt.getUserInfo
// (https://developer.open-douyin.com/docs/resource/zh-CN/mini-game/develop/api/open-capacity/user-information/info/sensitive-data-process),
// in constant time. A mismatch is [crypto.ErrSignature].
func (a *App) VerifySignature(sessionKey, rawData, signature string) error {
	if err := crypto.VerifySignature(sessionKey, rawData, signature); err != nil {
		return fmt.Errorf("douyinauth: verify signature: %w", err)
	}
	return nil
}

// Decrypt decrypts encryptedData (of tt.getUserInfo, or of the older
// phone-number button that hands out encryptedData) with sessionKey and iv,
// AES-128-CBC with PKCS#7 as on WeChat, checks that its watermark names
// this app, and unmarshals it into v (a non-nil pointer, such as a
// *miniauth.PhoneNumber).
//
// Data that does not decrypt, or decrypts to something that is not JSON, is
// [crypto.ErrDecrypt] (no padding oracle); a watermark with another appid,
// or none, is [ErrWatermark]; a bad key or iv is
// [crypto.ErrInvalidSessionKey] or [crypto.ErrInvalidIV]. v is left
// untouched on failure. As on WeChat, CBC has no integrity and the client
// picks the iv: decrypted fields are not authenticated, and an openId they
// carry must be the session's own.
func (a *App) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("douyinauth: decrypt: v must be a non-nil pointer")
	}
	plain, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		return fmt.Errorf("douyinauth: decrypt: %w", err)
	}
	var wm struct {
		Watermark crypto.Watermark `json:"watermark"`
	}
	if json.Unmarshal(plain, &wm) != nil {
		return fmt.Errorf("douyinauth: decrypt: %w", crypto.ErrDecrypt)
	}
	if wm.Watermark.AppID != a.appID {
		return fmt.Errorf("douyinauth: decrypt: %w", ErrWatermark)
	}
	// Decode into a fresh value first, so that v is untouched on failure.
	fresh := reflect.New(reflect.TypeOf(v).Elem())
	if json.Unmarshal(plain, fresh.Interface()) != nil {
		return fmt.Errorf("douyinauth: decrypt: %w", crypto.ErrDecrypt)
	}
	reflect.ValueOf(v).Elem().Set(fresh.Elem())
	return nil
}
