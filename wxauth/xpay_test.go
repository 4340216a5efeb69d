package wxauth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
)

// The worked example of WeChat's virtual-payment signature guide,
// https://developers.weixin.qq.com/minigame/dev/guide/open-ability/virtual-payment/signature.html:
// its Python calc_pay_sig and calc_signature run on these inputs and assert
// these two results.
const (
	xpayDocURI        = "/wxa/game/getbalance"
	xpayDocAppKey     = "12345"
	xpayDocSessionKey = "9hAb/NEYUlkaMBEsmFgzig=="
	xpayDocBody       = `{"offer_id": "12345678", "openid": "oUrsfxxxxxxxxxx", "ts": 1668136271, "zone_id": "1", "env": 0}`
	xpayDocPaySig     = "11bac6388871d29c055c7d16fbe42e8d646855b666faf89b15c815218b1b23bd"
	xpayDocSignature  = "42fe1d3341fb1c8bd6f5014ba735ab04eacc80a2deb3ab4669eab4700b5b6729"
)

func TestXPaySignaturesMatchWeChatsExample(t *testing.T) {
	t.Parallel()
	assert.Equal(t, xpayDocPaySig, wxauth.XPayPaySignature(xpayDocAppKey, xpayDocURI, xpayDocBody))
	assert.Equal(t, xpayDocSignature, wxauth.XPayUserSignature(xpayDocSessionKey, xpayDocBody))
}

// The session_key is the HMAC key as the base64 text WeChat hands out: the
// 16 bytes it decodes to give another signature, which WeChat refuses.
func TestXPayUserSignatureKeysWithTheBase64Text(t *testing.T) {
	t.Parallel()
	raw, err := base64.StdEncoding.DecodeString(xpayDocSessionKey)
	require.NoError(t, err)
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(xpayDocBody))
	decodedKeySig := hex.EncodeToString(m.Sum(nil))
	assert.NotEqual(t, decodedKeySig, wxauth.XPayUserSignature(xpayDocSessionKey, xpayDocBody))
}

func TestXPaySignatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		got, want string
	}{
		{"pay_sig signs uri&body, not the body alone",
			wxauth.XPayPaySignature(xpayDocAppKey, xpayDocURI, xpayDocBody),
			hmacHex(xpayDocAppKey, xpayDocURI+"&"+xpayDocBody)},
		{"signature signs the body without the uri",
			wxauth.XPayUserSignature(xpayDocSessionKey, xpayDocBody),
			hmacHex(xpayDocSessionKey, xpayDocBody)},
		{"an empty body is signed too",
			wxauth.XPayUserSignature(xpayDocSessionKey, ""),
			hmacHex(xpayDocSessionKey, "")},
		{"pay_sig of an empty body",
			wxauth.XPayPaySignature(xpayDocAppKey, "/xpay/query_user_balance", ""),
			hmacHex(xpayDocAppKey, "/xpay/query_user_balance&")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
			assert.Len(t, tt.got, 64)
			assert.Equal(t, strings.ToLower(tt.got), tt.got, "WeChat compares lower-case hex")
		})
	}
	// One byte of spacing changes the signature: the body must be the one sent.
	respaced := strings.ReplaceAll(xpayDocBody, ": ", ":")
	assert.NotEqual(t, xpayDocPaySig, wxauth.XPayPaySignature(xpayDocAppKey, xpayDocURI, respaced))
	assert.NotEqual(t, xpayDocSignature, wxauth.XPayUserSignature(xpayDocSessionKey, respaced))
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
