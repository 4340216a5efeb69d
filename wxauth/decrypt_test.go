package wxauth_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/wxauth"
)

const testIV = "r7BXXKkLb8qrSNn05n0qiA=="

func encrypt(t *testing.T, v any) string {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		b, err = json.Marshal(v)
		require.NoError(t, err)
	}
	enc, err := crypto.Encrypt(testKey, testIV, b)
	require.NoError(t, err)
	return enc
}

func TestDecryptPublishedSample(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples()
	app, err := wxauth.New(s.Decrypt.AppID, testSecret)
	require.NoError(t, err)
	var u wxauth.UserInfo
	require.NoError(t, app.Decrypt(s.Decrypt.SessionKey, s.Decrypt.EncryptedData, s.Decrypt.IV, &u))
	assert.Equal(t, wxauth.UserInfo{
		OpenID:    "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
		UnionID:   "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
		NickName:  "Band",
		Gender:    1,
		Language:  "zh_CN",
		City:      "Guangzhou",
		Province:  "Guangdong",
		Country:   "CN",
		AvatarURL: "http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0",
		Watermark: crypto.Watermark{AppID: "wx4f4bc4dec97d474b", Timestamp: 1477314187},
	}, u)

	other, err := wxauth.New("wx0000000000000000", testSecret)
	require.NoError(t, err)
	err = other.Decrypt(s.Decrypt.SessionKey, s.Decrypt.EncryptedData, s.Decrypt.IV, &u)
	require.ErrorIs(t, err, wxauth.ErrWatermark, "data encrypted for another app is refused")
}

func TestVerifySignaturePublishedSample(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples()
	app, _, _ := newMocked(t)
	require.NoError(t, app.VerifySignature(s.Signature.SessionKey, s.Signature.RawData, s.Signature.Signature))
	err := app.VerifySignature(s.Signature.SessionKey, s.Signature.RawData+" ", s.Signature.Signature)
	require.ErrorIs(t, err, crypto.ErrSignature)
	assert.Equal(t, "wxauth: verify signature: crypto: signature mismatch", err.Error())
	require.ErrorIs(t, app.VerifySignature("", s.Signature.RawData, crypto.Sign("", s.Signature.RawData)), crypto.ErrInvalidSessionKey)
}

func TestDecryptFailures(t *testing.T) {
	t.Parallel()
	app, _, _ := newMocked(t)
	wm := map[string]any{"appid": testAppID, "timestamp": 1}
	tests := []struct {
		name, key, data, iv string
		want                error
	}{
		{"not json", testKey, encrypt(t, []byte("not json at all")), testIV, crypto.ErrDecrypt},
		{"json but not an object", testKey, encrypt(t, []byte(`[1,2,3]`)), testIV, crypto.ErrDecrypt},
		{"wrong type for v", testKey, encrypt(t, map[string]any{"openId": 42, "watermark": wm}), testIV, crypto.ErrDecrypt},
		{"garbage ciphertext", testKey, "AAAAAAAAAAAAAAAAAAAAAA==", testIV, crypto.ErrDecrypt},
		{"not base64", testKey, "!!!!", testIV, crypto.ErrDecrypt},
		{"wrong key", "HyVFkGl5F5OQWJZZaNzBBg==", encrypt(t, map[string]any{"watermark": wm}), testIV, crypto.ErrDecrypt},
		{"no watermark", testKey, encrypt(t, map[string]any{"openId": "o1"}), testIV, wxauth.ErrWatermark},
		{"other app", testKey, encrypt(t, map[string]any{"openId": "o1", "watermark": map[string]any{"appid": "wxother"}}), testIV, wxauth.ErrWatermark},
		{"bad key", "short", encrypt(t, map[string]any{"watermark": wm}), testIV, crypto.ErrInvalidSessionKey},
		{"bad iv", testKey, encrypt(t, map[string]any{"watermark": wm}), "short", crypto.ErrInvalidIV},
	}
	var decryptText string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u wxauth.UserInfo
			err := app.Decrypt(tt.key, tt.data, tt.iv, &u)
			require.ErrorIs(t, err, tt.want)
			if tt.want == crypto.ErrDecrypt {
				// One text for every ciphertext-dependent failure: no oracle.
				if decryptText == "" {
					decryptText = err.Error()
				}
				assert.Equal(t, decryptText, err.Error())
			}
		})
	}
	assert.Equal(t, "wxauth: decrypt: crypto: cannot decrypt data", decryptText)
}

func TestDecryptRejectsNonPointer(t *testing.T) {
	t.Parallel()
	app, _, _ := newMocked(t)
	data := encrypt(t, map[string]any{"watermark": map[string]any{"appid": testAppID}})
	var u wxauth.UserInfo
	var nilPtr *wxauth.UserInfo
	for _, v := range []any{nil, u, nilPtr} {
		err := app.Decrypt(testKey, data, testIV, v)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "non-nil pointer")
	}
	var m map[string]any
	require.NoError(t, app.Decrypt(testKey, data, testIV, &m))
}

func TestPhoneNumberCountryCode(t *testing.T) {
	t.Parallel()
	app, _, _ := newMocked(t)
	tests := []struct {
		name string
		cc   any
		want string
	}{
		{"string", "86", "86"},
		{"number", 86, "86"},
		{"null", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := encrypt(t, map[string]any{
				"phoneNumber": "+8613800138000", "purePhoneNumber": "13800138000", "countryCode": tt.cc,
				"watermark": map[string]any{"appid": testAppID, "timestamp": 1700000000},
			})
			var p wxauth.PhoneNumber
			require.NoError(t, app.Decrypt(testKey, data, testIV, &p))
			assert.Equal(t, wxauth.PhoneNumber{
				PhoneNumber: "+8613800138000", PurePhoneNumber: "13800138000", CountryCode: tt.want,
				Watermark: crypto.Watermark{AppID: testAppID, Timestamp: 1700000000},
			}, p)
		})
	}
	var p wxauth.PhoneNumber
	require.Error(t, json.Unmarshal([]byte(`{"countryCode":true}`), &p))
	require.Error(t, json.Unmarshal([]byte(`{"countryCode":{}}`), &p))
}

// TestDecryptLeavesVAloneWhenRefused checks both decoding paths (the
// package's payload types, parsed once, and any other type): data for
// another app or of the wrong shape never reaches v.
func TestDecryptLeavesVAloneWhenRefused(t *testing.T) {
	t.Parallel()
	app, _, _ := newMocked(t)
	other := encrypt(t, map[string]any{"openId": "oForged", "phoneNumber": "1", "watermark": map[string]any{"appid": "wxother"}})
	badType := encrypt(t, map[string]any{"openId": 42, "watermark": map[string]any{"appid": testAppID}})

	u := wxauth.UserInfo{OpenID: "keep"}
	require.ErrorIs(t, app.Decrypt(testKey, other, testIV, &u), wxauth.ErrWatermark)
	require.ErrorIs(t, app.Decrypt(testKey, badType, testIV, &u), crypto.ErrDecrypt)
	assert.Equal(t, wxauth.UserInfo{OpenID: "keep"}, u)

	p := wxauth.PhoneNumber{PhoneNumber: "keep"}
	require.ErrorIs(t, app.Decrypt(testKey, other, testIV, &p), wxauth.ErrWatermark)
	assert.Equal(t, wxauth.PhoneNumber{PhoneNumber: "keep"}, p)

	type custom struct {
		OpenID    string           `json:"openId"`
		Watermark crypto.Watermark `json:"watermark"`
	}
	c := custom{OpenID: "keep"}
	require.ErrorIs(t, app.Decrypt(testKey, other, testIV, &c), wxauth.ErrWatermark)
	assert.Equal(t, custom{OpenID: "keep"}, c)
	require.NoError(t, app.Decrypt(testKey, encrypt(t, map[string]any{"openId": "o1", "watermark": map[string]any{"appid": testAppID}}), testIV, &c))
	assert.Equal(t, "o1", c.OpenID)
}
