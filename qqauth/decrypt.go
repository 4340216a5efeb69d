package qqauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// decrypt decrypts WeChat-style encryptedData for appID into v, refusing
// data whose watermark names another app before v is touched.
func decrypt(appID, sessionKey, encryptedData, iv string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("qqauth: decrypt: v must be a non-nil pointer")
	}
	plain, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		return fmt.Errorf("qqauth: decrypt: %w", err)
	}
	var wm struct {
		Watermark crypto.Watermark `json:"watermark"`
	}
	if json.Unmarshal(plain, &wm) != nil {
		return fmt.Errorf("qqauth: decrypt: %w", crypto.ErrDecrypt)
	}
	if wm.Watermark.AppID != appID {
		return fmt.Errorf("qqauth: decrypt: %w", miniauth.ErrWatermark)
	}
	// Decode into a fresh value first, so that v is left untouched when
	// the JSON does not fit it.
	fresh := reflect.New(reflect.TypeOf(v).Elem())
	if json.Unmarshal(plain, fresh.Interface()) != nil {
		return fmt.Errorf("qqauth: decrypt: %w", crypto.ErrDecrypt)
	}
	reflect.ValueOf(v).Elem().Set(fresh.Elem())
	return nil
}
