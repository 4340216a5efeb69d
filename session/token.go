package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
)

// tokenBytes is the entropy of a login token.
const tokenBytes = 32

// TokenLen is the length of every token [Manager.Issue] returns: 32 random
// bytes in unpadded base64url.
const TokenLen = 43 // base64.RawURLEncoding.EncodedLen(tokenBytes)

// newToken returns a fresh token.
func newToken() (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// storeKey returns the key a token's record is stored under: the hex SHA-256
// of the token. It reports false, before any hashing, for a string that is
// not a well-formed token.
func storeKey(token string) (string, bool) {
	if len(token) != TokenLen {
		return "", false
	}
	var buf [TokenLen]byte
	copy(buf[:], token)
	for _, c := range buf {
		if !base64URLAlphabet[c] {
			return "", false
		}
	}
	sum := sha256.Sum256(buf[:])
	var key [2 * sha256.Size]byte
	hex.Encode(key[:], sum[:])
	return string(key[:]), true
}

// base64URLAlphabet marks the bytes of the base64url alphabet (a constant
// table: never written after init).
var base64URLAlphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

// maxTokenFieldLen caps the header or cookie value looked at for a token.
const maxTokenFieldLen = 1024

type tokenKind int

const (
	fromBearer tokenKind = iota
	fromHeader
	fromCookie
)

// tokenSource says where a request carries its token.
type tokenSource struct {
	kind tokenKind
	name string // header or cookie name
}

// token returns the token a request carries, or "" for none. It does not
// check the token's form; the Manager does.
func (ts tokenSource) token(r *http.Request) string {
	switch ts.kind {
	case fromHeader:
		return capped(strings.TrimSpace(r.Header.Get(ts.name)))
	case fromCookie:
		c, err := r.Cookie(ts.name)
		if err != nil {
			return ""
		}
		return capped(c.Value)
	default:
		return bearerToken(r.Header.Get("Authorization"))
	}
}

// bearerToken returns the token of an "Authorization: Bearer <token>" value
// (the scheme in any case, RFC 9110), or "".
func bearerToken(h string) string {
	const scheme = "bearer "
	if len(h) > maxTokenFieldLen || len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return ""
	}
	return strings.TrimSpace(h[len(scheme):])
}

func capped(s string) string {
	if len(s) > maxTokenFieldLen {
		return ""
	}
	return s
}
