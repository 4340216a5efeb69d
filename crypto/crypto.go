// Package crypto implements the cryptography of WeChat mini-program login:
// AES-128-CBC decryption of encryptedData, the sha1 signature of rawData, and
// the HMAC-SHA256 login-state signature that /wxa/checksession expects.
//
// In a login, the server checks what the mini-program sends with the
// session_key that code2session returned for it:
//
//	if err := crypto.VerifySignature(sess.SessionKey, rawData, signature); err != nil {
//		return err // ErrSignature: rawData was not signed with this session_key
//	}
//	plain, err := crypto.Decrypt(sess.SessionKey, encryptedData, iv) // JSON with a watermark
//
// Most servers call these through package wxauth (App.VerifySignature, and
// App.Decrypt, which also checks the watermark's appid) or let
// session.LoginHandler do the whole login.
//
// Every function is pure (no I/O) and safe for concurrent use. Arguments come
// key first and are the strings WeChat hands out: the session_key and iv in
// standard base64, signatures in hex.
//
// Errors are sentinels matched with [errors.Is]. Every failure that depends on
// the ciphertext (bad base64, bad length, bad padding) is the one [ErrDecrypt]
// with no further detail: a server that told a client which of these happened
// would be a padding oracle.
package crypto

import (
	"errors"
)

// Size limits on inputs. Anything longer is refused before any work is done.
const (
	// MaxEncryptedDataLen is the longest encryptedData (base64 text) that
	// [Decrypt] accepts: 64 KiB. WeChat's user-info and phone payloads are
	// well under 2 KiB.
	MaxEncryptedDataLen = 64 << 10

	// MaxRawDataLen is the longest rawData that [VerifySignature] accepts: 64 KiB.
	MaxRawDataLen = 64 << 10
)

// Errors returned by this package, for [errors.Is].
var (
	// ErrInvalidSessionKey means the session_key is not standard base64 of
	// exactly 16 bytes.
	ErrInvalidSessionKey = errors.New("crypto: invalid session key")

	// ErrInvalidIV means the iv is not standard base64 of exactly 16 bytes.
	ErrInvalidIV = errors.New("crypto: invalid iv")

	// ErrDecrypt means encryptedData could not be decrypted: it was empty,
	// too long, not base64, not a whole number of blocks, or its padding was
	// wrong. Which of these it was is deliberately not said.
	ErrDecrypt = errors.New("crypto: cannot decrypt data")

	// ErrSignature means a signature did not match its data, or was not a
	// well-formed hex digest, or the data was too long to check.
	ErrSignature = errors.New("crypto: signature mismatch")
)

// Watermark is the watermark WeChat adds to every decrypted payload. AppID is
// the mini-program the data was encrypted for; a server must refuse data whose
// AppID is not its own.
type Watermark struct {
	AppID     string `json:"appid"`
	Timestamp int64  `json:"timestamp"`
}
