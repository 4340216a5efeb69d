package wecomauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

var (
	_ miniauth.Decrypter         = (*App)(nil)
	_ miniauth.SignatureVerifier = (*App)(nil)
)

// VerifySignature checks that signature is hex(sha1(rawData + session_key)),
// as wx.qy.getEnterpriseUserInfo signs its rawData
// (https://developer.work.weixin.qq.com/document/path/96974). A mismatch
// matches crypto.ErrSignature.
func (a *App) VerifySignature(sessionKey, rawData, signature string) error {
	if err := crypto.VerifySignature(sessionKey, rawData, signature); err != nil {
		return fmt.Errorf("wecomauth: verify signature: %w", err)
	}
	return nil
}

// Decrypt decrypts the encryptedData of a wx.qy call (such as
// wx.qy.getEnterpriseUserInfo, into an [EnterpriseUserInfo]) with the
// session_key and iv, checks that its watermark names this mini-program's
// appid (WeCom: "解密时使用的appid为小程序的appid,而非企业的corpid",
// https://developer.work.weixin.qq.com/document/path/96974), and
// unmarshals it into v, a non-nil pointer. v is left untouched when the
// data is refused.
//
// The cipher is WeChat's (AES-128-CBC, PKCS#7, keyed by the session_key).
// Data that does not decrypt or is not JSON matches crypto.ErrDecrypt, with
// no detail; a watermark of another appid, or none, matches
// [miniauth.ErrWatermark]. Decrypted fields are not authenticated: a userid
// in them must be the session's own. wx.qy.getMobile's data decrypts the
// same way, but WeCom does not document its field names: decrypt it into a
// struct or map of your own.
func (a *App) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("wecomauth: decrypt: v must be a non-nil pointer")
	}
	plain, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		return fmt.Errorf("wecomauth: decrypt: %w", err)
	}
	var wm struct {
		Watermark crypto.Watermark `json:"watermark"`
	}
	if json.Unmarshal(plain, &wm) != nil {
		return fmt.Errorf("wecomauth: decrypt: %w", crypto.ErrDecrypt)
	}
	if wm.Watermark.AppID != a.appID {
		return fmt.Errorf("wecomauth: decrypt: %w", miniauth.ErrWatermark)
	}
	fresh := reflect.New(reflect.TypeOf(v).Elem())
	if json.Unmarshal(plain, fresh.Interface()) != nil {
		return fmt.Errorf("wecomauth: decrypt: %w", crypto.ErrDecrypt)
	}
	reflect.ValueOf(v).Elem().Set(fresh.Elem())
	return nil
}

// EnterpriseUserInfo is the member in wx.qy.getEnterpriseUserInfo's
// encryptedData, with WeCom's field names
// (https://developer.work.weixin.qq.com/document/path/96974).
type EnterpriseUserInfo struct {
	CorpID string `json:"corpid"`
	UserID string `json:"userid"`
	// Name is empty for third-party apps, which WeCom no longer gives it.
	Name string `json:"name"`
	// Gender is 0 (unknown or not permitted), 1 (male) or 2 (female).
	Gender    int              `json:"gender"`
	Watermark crypto.Watermark `json:"watermark"`
}
