package crypto

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// Sign returns the signature WeChat sends beside rawData: the hex sha1 of
// rawData followed by the session_key (its base64 text, as WeChat does).
// It is the inverse of [VerifySignature], for fakes and tests.
func Sign(sessionKey, rawData string) string {
	sum := streamSum(rawData, sessionKey)
	return hex.EncodeToString(sum[:])
}

// VerifySignature checks that signature is hex(sha1(rawData + sessionKey)),
// comparing in constant time. Upper- and lower-case hex are both accepted.
//
// The session_key must be base64 of 16 bytes ([ErrInvalidSessionKey]
// otherwise): with an empty key the signature would be a plain sha1 that
// anyone can compute. A mismatch, a malformed signature or rawData over
// [MaxRawDataLen] is [ErrSignature].
//
// It allocates nothing when rawData and the key together fit in 1 KiB (a
// user profile is about 300 bytes); longer rawData costs one allocation.
func VerifySignature(sessionKey, rawData, signature string) error {
	var key [16]byte
	if !decode16(&key, sessionKey) {
		return ErrInvalidSessionKey
	}
	if len(rawData) > MaxRawDataLen || len(signature) != 2*sha1.Size {
		return ErrSignature
	}
	var want [sha1.Size]byte
	if len(rawData)+len(sessionKey) <= sigStackLen {
		// Written out here rather than in a function of its own: the call
		// cost VerifySignature 3% (BenchmarkVerifySignature/ratio).
		var buf [sigStackLen]byte
		n := copy(buf[:], rawData)
		n += copy(buf[n:], sessionKey)
		want = sha1.Sum(buf[:n])
	} else {
		want = streamSum(rawData, sessionKey)
	}
	if !equalHex(&want, signature) {
		return ErrSignature
	}
	return nil
}

// sigStackLen is the longest rawData+key that VerifySignature hashes from
// a buffer on the stack.
const sigStackLen = 1 << 10

// streamSum returns sha1(rawData + sessionKey), hashing the two in turn.
func streamSum(rawData, sessionKey string) [sha1.Size]byte {
	h := sha1.New()
	_, _ = io.WriteString(h, rawData)
	_, _ = io.WriteString(h, sessionKey)
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
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
