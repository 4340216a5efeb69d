package crypto

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// Sign returns the signature WeChat sends beside rawData: the hex sha1 of
// rawData followed by the session_key (its base64 text, as WeChat does).
// It is the inverse of [VerifySignature], for fakes and tests.
func Sign(sessionKey, rawData string) string {
	h := sha1.New()
	h.Write([]byte(rawData))
	h.Write([]byte(sessionKey))
	return hex.EncodeToString(h.Sum(nil))
}

// VerifySignature checks that signature is hex(sha1(rawData + sessionKey)),
// comparing in constant time. Upper- and lower-case hex are both accepted.
//
// The session_key must be base64 of 16 bytes ([ErrInvalidSessionKey]
// otherwise): with an empty key the signature would be a plain sha1 that
// anyone can compute. A mismatch, a malformed signature or rawData over
// [MaxRawDataLen] is [ErrSignature].
func VerifySignature(sessionKey, rawData, signature string) error {
	var key [16]byte
	if !decode16(&key, sessionKey) {
		return ErrInvalidSessionKey
	}
	if len(rawData) > MaxRawDataLen || len(signature) != 2*sha1.Size {
		return ErrSignature
	}
	var got [sha1.Size]byte
	if _, err := hex.Decode(got[:], []byte(signature)); err != nil {
		return ErrSignature
	}
	h := sha1.New()
	h.Write([]byte(rawData))
	h.Write([]byte(sessionKey))
	var want [sha1.Size]byte
	if subtle.ConstantTimeCompare(h.Sum(want[:0]), got[:]) != 1 {
		return ErrSignature
	}
	return nil
}

// SessionKeySignature returns the user login-state signature that
// /wxa/checksession expects: hex(hmac_sha256(key = session_key, message = "")),
// keyed by the session_key's base64 text as WeChat's documentation specifies.
func SessionKeySignature(sessionKey string) string {
	return LoginStateSignature(sessionKey, nil)
}

// LoginStateSignature returns hex(hmac_sha256(key = session_key, message =
// body)): WeChat's user login-state signature of a request body. A GET request
// signs the empty body, which is [SessionKeySignature].
func LoginStateSignature(sessionKey string, body []byte) string {
	m := hmac.New(sha256.New, []byte(sessionKey))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
