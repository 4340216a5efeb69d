package baiduauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// Baidu's user-data cipher (用户数据的签名验证和加解密,
// https://smartprogram.baidu.com/docs/develop/api/open/log_userdata/, also
// https://www.bookstack.cn/read/smartprogram-20210306/a9bf6869d062a226.md):
// AES-192-CBC with PKCS#7 padding; ciphertext = base64dec(data); key =
// base64dec(session_key), 24 bytes; IV = base64dec(iv). The plaintext is
// framed: 16 random bytes, the length N of the user data as a 4-byte
// big-endian unsigned integer, N bytes of user data (JSON), and the app's
// AppKey. There is no watermark: the trailer names the app.
//
// The padding is PKCS#7 over 32-byte blocks (pad values up to 32), as
// Baidu's own sample on that page is made (its plaintext ends in 28 bytes
// of 0x1c); padding over 16-byte blocks decrypts too.

// MaxEncryptedDataLen is the longest encrypted data (base64 text)
// [DecryptData] accepts: 256 KiB, room for user data of 64 KiB and more
// (the framing's length is 32 bits; Baidu's payloads are a few hundred
// bytes).
const MaxEncryptedDataLen = 256 << 10

// Sizes of the framing.
const (
	sessionKeyLen = 24
	randomLen     = 16
	lengthLen     = 4
	headerLen     = randomLen + lengthLen
	padBlock      = 32
)

// DecryptData decrypts Baidu's encrypted user data (the data, or
// encryptedData, of swan.getUserInfo or the phone-number button) with the
// session key and iv, checks that its trailer is appKey, and returns the
// user data (JSON). It is the cipher of [App.Decrypt], for callers that
// want the bytes.
//
// A session key or iv that is not standard base64 of 24 or 16 bytes is
// [crypto.ErrInvalidSessionKey] or [crypto.ErrInvalidIV]. Every failure that
// depends on the ciphertext (bad base64, length, padding or framing) is
// [crypto.ErrDecrypt], with no detail (no padding oracle). A trailer that is
// not appKey is [ErrWatermark]. User data of any length decodes: the length
// is the whole 4-byte integer (Baidu's Go demo reads its last byte only, and
// breaks above 255 bytes).
//
// CBC has no integrity and the client picks the iv: decrypted data is not
// authenticated, and an id it carries must be the session's own.
func DecryptData(appKey, sessionKey, encryptedData, iv string) ([]byte, error) {
	var key [sessionKeyLen]byte
	if !decodeExact(key[:], sessionKey) {
		return nil, crypto.ErrInvalidSessionKey
	}
	var ivb [aes.BlockSize]byte
	if !decodeExact(ivb[:], iv) {
		return nil, crypto.ErrInvalidIV
	}
	if len(encryptedData) == 0 || len(encryptedData) > MaxEncryptedDataLen {
		return nil, crypto.ErrDecrypt
	}
	buf, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil || len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return nil, crypto.ErrDecrypt
	}
	block, err := aes.NewCipher(key[:])
	if err != nil { // unreachable: the key is 24 bytes
		return nil, crypto.ErrInvalidSessionKey
	}
	cipher.NewCBCDecrypter(block, ivb[:]).CryptBlocks(buf, buf)
	n, ok := unpad(buf)
	if !ok || n < headerLen {
		return nil, crypto.ErrDecrypt
	}
	plain := buf[:n]
	size := binary.BigEndian.Uint32(plain[randomLen:headerLen])
	if uint64(size) > uint64(n-headerLen) {
		return nil, crypto.ErrDecrypt
	}
	end := headerLen + int(size)
	if string(plain[end:]) != appKey {
		return nil, ErrWatermark
	}
	return plain[headerLen:end], nil
}

// Encrypt is the inverse of [DecryptData]: it frames data with 16 random
// bytes, its length and appKey, pads it (PKCS#7 over 32-byte blocks, as
// Baidu does) and encrypts it with AES-192-CBC under the session key and
// iv, returning standard base64. It exists for fakes and tests (package
// baiduauthtest); a server never needs it.
func Encrypt(appKey, sessionKey, iv string, data []byte) (string, error) {
	var key [sessionKeyLen]byte
	if !decodeExact(key[:], sessionKey) {
		return "", crypto.ErrInvalidSessionKey
	}
	var ivb [aes.BlockSize]byte
	if !decodeExact(ivb[:], iv) {
		return "", crypto.ErrInvalidIV
	}
	if uint64(len(data)) > 1<<32-1 {
		return "", errors.New("baiduauth: data too long to frame")
	}
	n := headerLen + len(data) + len(appKey)
	pad := padBlock - n%padBlock
	buf := make([]byte, n+pad)
	if _, err := rand.Read(buf[:randomLen]); err != nil {
		return "", err
	}
	binary.BigEndian.PutUint32(buf[randomLen:headerLen], uint32(len(data)))
	copy(buf[headerLen:], data)
	copy(buf[headerLen+len(data):], appKey)
	for i := n; i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return "", crypto.ErrInvalidSessionKey
	}
	cipher.NewCBCEncrypter(block, ivb[:]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// CheckSessionKey reports whether sessionKey is usable as Baidu's: standard
// base64 of exactly 24 bytes (32 characters). It returns nil or
// [crypto.ErrInvalidSessionKey].
func CheckSessionKey(sessionKey string) error {
	var key [sessionKeyLen]byte
	if !decodeExact(key[:], sessionKey) {
		return crypto.ErrInvalidSessionKey
	}
	return nil
}

// decodeExact decodes standard base64 s into dst, reporting whether s is
// exactly len(dst) bytes of canonical base64.
func decodeExact(dst []byte, s string) bool {
	if len(s) != base64.StdEncoding.EncodedLen(len(dst)) {
		return false
	}
	// s may decode to more than len(dst) bytes (24 characters without
	// "==" are 18): decode into room for that, then check the length.
	var buf [sessionKeyLen + 3]byte
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != len(dst) {
		return false
	}
	copy(dst, buf[:n])
	return true
}

// unpad checks PKCS#7 padding of 1 to 32 bytes (all equal to the pad's
// length) in time that does not depend on the pad's value, and returns the
// plaintext length.
func unpad(b []byte) (int, bool) {
	// len(b) is a non-zero multiple of 16, checked by the caller.
	last := b[len(b)-1]
	pad := int(last)
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, padBlock) &
		subtle.ConstantTimeLessOrEq(pad, len(b))
	span := min(padBlock, len(b))
	tail := b[len(b)-span:]
	for i := range span {
		inPad := subtle.ConstantTimeLessOrEq(i+1, pad)
		eq := subtle.ConstantTimeByteEq(tail[span-1-i], last)
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	if good != 1 {
		return 0, false
	}
	return len(b) - pad, true
}

// UserInfo is the user data of swan.getUserInfo's data, as Baidu's sample
// decrypts it: {"openid","nickname","headimgurl","sex"}.
type UserInfo struct {
	OpenID     string `json:"openid"`
	NickName   string `json:"nickname"`
	HeadImgURL string `json:"headimgurl"`
	Sex        int    `json:"sex"` // 0 unknown, 1 male, 2 female
}

// phoneData is the user data of the phone-number button: "mobile" (as
// Baidu's SDKs read it; not confirmed on Baidu's own page), or WeChat's
// field names, which some hosts send.
type phoneData struct {
	Mobile          string `json:"mobile"`
	PhoneNumber     string `json:"phoneNumber"`
	PurePhoneNumber string `json:"purePhoneNumber"`
	CountryCode     string `json:"countryCode"`
}

// Decrypt decrypts encryptedData with the session key and iv (see
// [DecryptData]: AES-192-CBC, Baidu's framing, the AppKey trailer checked)
// and unmarshals the user data into v, a non-nil pointer: a [UserInfo], a
// [miniauth.PhoneNumber] (filled from the phone button's "mobile"), or any
// type of yours. It implements [miniauth.Decrypter]. v is left untouched
// when the data is refused.
func (a *App) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("baiduauth: decrypt: v must be a non-nil pointer")
	}
	data, err := DecryptData(a.appKey, sessionKey, encryptedData, iv)
	if err != nil {
		return fmt.Errorf("baiduauth: decrypt: %w", err)
	}
	if p, ok := v.(*miniauth.PhoneNumber); ok {
		var d phoneData
		if json.Unmarshal(data, &d) != nil {
			return fmt.Errorf("baiduauth: decrypt: %w", crypto.ErrDecrypt)
		}
		n := miniauth.PhoneNumber{PhoneNumber: d.PhoneNumber, PurePhoneNumber: d.PurePhoneNumber, CountryCode: d.CountryCode}
		if d.Mobile != "" {
			n.PhoneNumber, n.PurePhoneNumber = d.Mobile, d.Mobile
		}
		if n.PurePhoneNumber == "" {
			n.PurePhoneNumber = n.PhoneNumber
		}
		if n.PhoneNumber == "" {
			return fmt.Errorf("baiduauth: decrypt: no phone number in the data: %w", crypto.ErrDecrypt)
		}
		*p = n
		return nil
	}
	tmp := reflect.New(reflect.TypeOf(v).Elem())
	if json.Unmarshal(data, tmp.Interface()) != nil {
		return fmt.Errorf("baiduauth: decrypt: %w", crypto.ErrDecrypt)
	}
	reflect.ValueOf(v).Elem().Set(tmp.Elem())
	return nil
}
