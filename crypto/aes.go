package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
)

// blockKeyLen is the length of standard base64 text of 16 bytes ("...==").
const blockKeyLen = 24

// Decrypt decrypts WeChat's encryptedData with AES-128-CBC and strict PKCS#7
// padding, using the base64 session_key as key and the base64 iv. It returns
// the plaintext (JSON, for every WeChat payload).
//
// A session_key or iv that is not base64 of 16 bytes is [ErrInvalidSessionKey]
// or [ErrInvalidIV]. Every failure that depends on encryptedData is
// [ErrDecrypt], with no detail. CBC has no integrity: a tampered ciphertext can
// decrypt with valid padding into different JSON (the iv, which the client
// sends, sets the first block), so a caller must check what it decrypts (the
// watermark, and any openId against the session's) and must not take its
// fields as authenticated.
func Decrypt(sessionKey, encryptedData, iv string) ([]byte, error) {
	var key, ivb [16]byte
	if !decode16(&key, sessionKey) {
		return nil, ErrInvalidSessionKey
	}
	if !decode16(&ivb, iv) {
		return nil, ErrInvalidIV
	}
	if len(encryptedData) == 0 || len(encryptedData) > MaxEncryptedDataLen {
		return nil, ErrDecrypt
	}
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(encryptedData)))
	n, err := base64.StdEncoding.Decode(buf, []byte(encryptedData))
	if err != nil || n == 0 || n%aes.BlockSize != 0 {
		return nil, ErrDecrypt
	}
	buf = buf[:n]
	block, err := aes.NewCipher(key[:])
	if err != nil { // unreachable: the key is 16 bytes
		return nil, ErrInvalidSessionKey
	}
	cipher.NewCBCDecrypter(block, ivb[:]).CryptBlocks(buf, buf)
	n, ok := unpad(buf)
	if !ok {
		return nil, ErrDecrypt
	}
	return buf[:n], nil
}

// unpad checks PKCS#7 padding (1 to 16 bytes, all equal to the pad length) in
// time that does not depend on the pad's value, and returns the plaintext length.
func unpad(b []byte) (int, bool) {
	// len(b) is a non-zero multiple of 16, checked by the caller.
	last := b[len(b)-1]
	pad := int(last)
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	tail := b[len(b)-aes.BlockSize:]
	for i := range aes.BlockSize {
		// Byte tail[15-i] is padding when i < pad; then it must equal last.
		inPad := subtle.ConstantTimeLessOrEq(i+1, pad)
		eq := subtle.ConstantTimeByteEq(tail[aes.BlockSize-1-i], last)
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	if good != 1 {
		return 0, false
	}
	return len(b) - pad, true
}

// Encrypt is the inverse of [Decrypt]: it pads plaintext with PKCS#7, encrypts
// it with AES-128-CBC under the base64 session_key and iv, and returns standard
// base64, as WeChat's encryptedData. It exists for fakes and tests (see
// package wxauthtest); a server never needs it.
func Encrypt(sessionKey, iv string, plaintext []byte) (string, error) {
	var key, ivb [16]byte
	if !decode16(&key, sessionKey) {
		return "", ErrInvalidSessionKey
	}
	if !decode16(&ivb, iv) {
		return "", ErrInvalidIV
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	block, err := aes.NewCipher(key[:])
	if err != nil { // unreachable: the key is 16 bytes
		return "", ErrInvalidSessionKey
	}
	cipher.NewCBCEncrypter(block, ivb[:]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// CheckSessionKey reports whether sessionKey is usable as a key: standard
// base64 of exactly 16 bytes. It returns nil or [ErrInvalidSessionKey].
func CheckSessionKey(sessionKey string) error {
	var key [16]byte
	if !decode16(&key, sessionKey) {
		return ErrInvalidSessionKey
	}
	return nil
}

// CheckIV reports whether iv is usable as an iv: standard base64 of exactly
// 16 bytes. It returns nil or [ErrInvalidIV].
func CheckIV(iv string) error {
	var b [16]byte
	if !decode16(&b, iv) {
		return ErrInvalidIV
	}
	return nil
}
