package baiduauth_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
	"github.com/wxmp/miniauth/crypto"
)

// Baidu's own sample, from its user-data page
// (https://smartprogram.baidu.com/docs/develop/api/open/log_userdata/) and
// its Go demo's test (baidu-smart-app/auth-demo-backend,
// model/auth/common_test.go).
const (
	sampleSessionKey = "1df09d0a1677dd72b8325aec59576e0c"
	sampleIV         = "1df09d0a1677dd72b8325Q=="
	sampleData       = "OpCoJgs7RrVgaMNDixIvaCIyV2SFDBNLivgkVqtzq2GC10egsn+PKmQ/+5q+chT8xzldLUog2haTItyIkKyvzvmXonBQLIMeq54axAu9c3KG8IhpFD6+ymHocmx07ZKi7eED3t0KyIxJgRNSDkFk5RV1ZP2mSWa7ZgCXXcAbP0RsiUcvhcJfrSwlpsm0E1YJzKpYy429xrEEGvK+gfL+Cw=="
	samplePlain      = `{"openid":"open_id","nickname":"baidu_user","headimgurl":"url of image","sex":1}`
)

func TestDecryptBaidusSample(t *testing.T) {
	t.Parallel()
	plain, err := baiduauth.DecryptData(testAppKey, sampleSessionKey, sampleData, sampleIV)
	require.NoError(t, err)
	assert.Equal(t, samplePlain, string(plain))

	app, err := baiduauth.New(testAppKey, testSecret)
	require.NoError(t, err)
	var u baiduauth.UserInfo
	require.NoError(t, app.Decrypt(sampleSessionKey, sampleData, sampleIV, &u))
	assert.Equal(t, baiduauth.UserInfo{OpenID: "open_id", NickName: "baidu_user", HeadImgURL: "url of image", Sex: 1}, u)
	var m miniauth.Decrypter = app
	var raw map[string]any
	require.NoError(t, m.Decrypt(sampleSessionKey, sampleData, sampleIV, &raw))
	assert.Equal(t, "baidu_user", raw["nickname"])

	other, err := baiduauth.New("another0AppKey0000000000000000xx", testSecret)
	require.NoError(t, err)
	u = baiduauth.UserInfo{NickName: "kept"}
	err = other.Decrypt(sampleSessionKey, sampleData, sampleIV, &u)
	require.ErrorIs(t, err, miniauth.ErrWatermark)
	assert.Equal(t, "kept", u.NickName, "v is untouched when the data is refused")
}

// TestLengthsPastOneByte: user data of 0, 1, 255, 256, 65535, 65536 and
// 70000 bytes round-trips. Baidu's Go demo reads the length from byte 19
// alone: 256 reads as 0 there, 65536 as 0, and the demo then compares the
// JSON plus trailer with the AppKey and fails.
func TestLengthsPastOneByte(t *testing.T) {
	t.Parallel()
	key := newKey(t, 24)
	iv := newKey(t, 16)
	for _, n := range []int{0, 1, 15, 16, 255, 256, 257, 65535, 65536, 70000} {
		data := jsonOfLen(n)
		ct, err := baiduauth.Encrypt(testAppKey, key, iv, data)
		require.NoError(t, err, n)
		got, err := baiduauth.DecryptData(testAppKey, key, ct, iv)
		require.NoError(t, err, n)
		assert.Equal(t, data, got, n)
		if n >= 256 && n%256 == 0 {
			// What the demo reads: the low byte of the length.
			raw := decryptRaw(t, key, iv, ct)
			assert.Zero(t, raw[19], "byte 19 alone says 0 for %d", n)
			assert.Equal(t, uint32(n), binary.BigEndian.Uint32(raw[16:20]))
		}
	}
	_, err := baiduauth.Encrypt(testAppKey, key, iv, jsonOfLen(baiduauth.MaxEncryptedDataLen))
	require.NoError(t, err)
	ct, _ := baiduauth.Encrypt(testAppKey, key, iv, jsonOfLen(baiduauth.MaxEncryptedDataLen))
	_, err = baiduauth.DecryptData(testAppKey, key, ct, iv)
	require.ErrorIs(t, err, crypto.ErrDecrypt, "over the limit")
}

func TestDecryptRefusals(t *testing.T) {
	t.Parallel()
	key := newKey(t, 24)
	iv := newKey(t, 16)
	good, err := baiduauth.Encrypt(testAppKey, key, iv, []byte(`{"mobile":"13800138000"}`))
	require.NoError(t, err)
	raw, _ := base64.StdEncoding.DecodeString(good)
	flipLast := append([]byte(nil), raw...)
	flipLast[len(flipLast)-17] ^= 0x01 // the last plaintext block's pad byte
	// A length that claims more than there is.
	longLen := framedCT(t, key, iv, func(p []byte) []byte { binary.BigEndian.PutUint32(p[16:20], 1<<31); return p })
	short := framedCT(t, key, iv, func(p []byte) []byte { return p[:18] })
	tests := []struct {
		name, key, data, iv string
		want                error
	}{
		{"wechat's 16-byte key", newKey(t, 16), good, iv, crypto.ErrInvalidSessionKey},
		{"key not base64", strings.Repeat("!", 32), good, iv, crypto.ErrInvalidSessionKey},
		{"empty key", "", good, iv, crypto.ErrInvalidSessionKey},
		{"short iv", key, good, newKey(t, 8), crypto.ErrInvalidIV},
		{"iv of 24 characters without padding (18 bytes; a fuzzer's find)", key, good, "000000000000000000000000", crypto.ErrInvalidIV},
		{"a digit-only key of 24 bytes, not the one used", strings.Repeat("0", 31) + "1", good, iv, crypto.ErrDecrypt},
		{"empty data", key, "", iv, crypto.ErrDecrypt},
		{"not base64", key, "%%%", iv, crypto.ErrDecrypt},
		{"not whole blocks", key, base64.StdEncoding.EncodeToString(raw[:len(raw)-1]), iv, crypto.ErrDecrypt},
		{"bad padding", key, base64.StdEncoding.EncodeToString(flipLast), iv, crypto.ErrDecrypt},
		{"wrong key", newKey(t, 24), good, iv, crypto.ErrDecrypt},
		{"length past the end", key, longLen, iv, crypto.ErrDecrypt},
		{"shorter than the header", key, short, iv, crypto.ErrDecrypt},
	}
	for _, tt := range tests {
		_, err := baiduauth.DecryptData(testAppKey, tt.key, tt.data, tt.iv)
		require.ErrorIs(t, err, tt.want, tt.name)
	}
	_, err = baiduauth.DecryptData("another", key, good, iv)
	require.ErrorIs(t, err, miniauth.ErrWatermark)
	_, err = baiduauth.DecryptData(testAppKey+"x", key, good, iv)
	require.ErrorIs(t, err, miniauth.ErrWatermark, "the whole trailer is the AppKey, not a prefix of it")
}

func TestDecryptPhone(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	id := srv.AddUser(baiduauthtestUser("15012345678"))
	srv.Login(id)
	enc, err := srv.Phone(id)
	require.NoError(t, err)
	key, err := srv.SessionKey(id)
	require.NoError(t, err)
	var p miniauth.PhoneNumber
	require.NoError(t, app.Decrypt(key, enc.Data, enc.IV, &p))
	assert.Equal(t, miniauth.PhoneNumber{PhoneNumber: "15012345678", PurePhoneNumber: "15012345678"}, p)

	noPhone, err := srv.Encrypt(id, map[string]string{"nickname": "x"})
	require.NoError(t, err)
	require.ErrorIs(t, app.Decrypt(key, noPhone.Data, noPhone.IV, &p), crypto.ErrDecrypt)
	notJSON, err := srv.Encrypt(id, []byte("mobile=1"))
	require.NoError(t, err)
	var u baiduauth.UserInfo
	require.ErrorIs(t, app.Decrypt(key, notJSON.Data, notJSON.IV, &u), crypto.ErrDecrypt)
	require.Error(t, app.Decrypt(key, enc.Data, enc.IV, nil))
	require.Error(t, app.Decrypt(key, enc.Data, enc.IV, p))
}

func newKey(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

// jsonOfLen returns a JSON string literal of exactly n bytes (n >= 2), or
// "" for n < 2 as raw bytes of that length.
func jsonOfLen(n int) []byte {
	if n < 2 {
		return []byte(strings.Repeat("7", n))
	}
	b, _ := json.Marshal(strings.Repeat("a", n-2))
	return b
}

// decryptRaw decrypts ct (base64) with AES-192-CBC and returns the padded
// plaintext, unchecked.
func decryptRaw(t *testing.T, key, iv, ct string) []byte {
	t.Helper()
	k, _ := base64.StdEncoding.DecodeString(key)
	v, _ := base64.StdEncoding.DecodeString(iv)
	b, err := base64.StdEncoding.DecodeString(ct)
	require.NoError(t, err)
	block, err := aes.NewCipher(k)
	require.NoError(t, err)
	cipher.NewCBCDecrypter(block, v).CryptBlocks(b, b)
	return b
}

// framedCT frames {"a":1} with testAppKey, lets edit change the plaintext,
// pads it (PKCS#7, 32-byte blocks) and encrypts it.
func framedCT(t *testing.T, key, iv string, edit func([]byte) []byte) string {
	t.Helper()
	data := []byte(`{"a":1}`)
	p := make([]byte, 20, 64)
	binary.BigEndian.PutUint32(p[16:20], uint32(len(data)))
	p = append(append(p, data...), testAppKey...)
	p = edit(p)
	pad := 32 - len(p)%32
	for range pad {
		p = append(p, byte(pad))
	}
	k, _ := base64.StdEncoding.DecodeString(key)
	v, _ := base64.StdEncoding.DecodeString(iv)
	block, err := aes.NewCipher(k)
	require.NoError(t, err)
	cipher.NewCBCEncrypter(block, v).CryptBlocks(p, p)
	return base64.StdEncoding.EncodeToString(p)
}

func baiduauthtestUser(mobile string) baiduauthtest.User { return baiduauthtest.User{Mobile: mobile} }
