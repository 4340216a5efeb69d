package crypto_test

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/testutil"
)

// stdlibVerify is the baseline signature check as most SDKs write it.
func stdlibVerify(sessionKey, rawData, signature string) bool {
	sum := sha1.Sum([]byte(rawData + sessionKey))
	return hex.EncodeToString(sum[:]) == signature
}

// floorVerify is the floor VerifySignature is measured against: sha1 of
// rawData+key assembled in a stack buffer, its hex compared with the
// signature; no key check, no constant-time compare, no allocation.
func floorVerify(sessionKey, rawData, signature string) bool {
	var buf [1 << 10]byte
	if len(rawData)+len(sessionKey) > len(buf) {
		return false
	}
	n := copy(buf[:], rawData)
	n += copy(buf[n:], sessionKey)
	sum := sha1.Sum(buf[:n])
	var hx [2 * sha1.Size]byte
	hex.Encode(hx[:], sum[:])
	return string(hx[:]) == signature
}

// BenchmarkDecrypt measures crypto.Decrypt ("miniauth") against the plain
// stdlib decryption ("floor", testutil.FloorDecrypt), one after the other
// and interleaved ("ratio").
func BenchmarkDecrypt(b *testing.B) {
	s := testutil.WeChatSamples().Decrypt
	impls := []struct {
		name string
		fn   func(sessionKey, encryptedData, iv string) ([]byte, error)
	}{
		{"miniauth", crypto.Decrypt},
		{"floor", testutil.FloorDecrypt},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			got, err := impl.fn(s.SessionKey, s.EncryptedData, s.IV)
			if err != nil || string(got) != s.Plaintext {
				b.Fatalf("%s does not decrypt the sample: %v", impl.name, err)
			}
			b.SetBytes(int64(len(s.EncryptedData)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.fn(s.SessionKey, s.EncryptedData, s.IV); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ratio", func(b *testing.B) {
		call := func(fn func(string, string, string) ([]byte, error)) func() error {
			return func() error { _, err := fn(s.SessionKey, s.EncryptedData, s.IV); return err }
		}
		testutil.CompareToFloor(b, 50, call(impls[0].fn), call(impls[1].fn))
	})
}

// BenchmarkVerifySignature measures crypto.VerifySignature ("miniauth")
// against the stack-buffer floor ("floor"; the goal is ≤ 1.1× with
// 0 allocs) and the plain stdlib check ("stdlib").
func BenchmarkVerifySignature(b *testing.B) {
	s := testutil.WeChatSamples().Signature
	impls := []struct {
		name string
		ok   func(sessionKey, rawData, signature string) bool
	}{
		{"miniauth", func(k, d, s string) bool { return crypto.VerifySignature(k, d, s) == nil }},
		{"floor", floorVerify},
		{"stdlib", stdlibVerify},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			if !impl.ok(s.SessionKey, s.RawData, s.Signature) {
				b.Fatalf("%s refuses the sample", impl.name)
			}
			b.ReportAllocs()
			for b.Loop() {
				if !impl.ok(s.SessionKey, s.RawData, s.Signature) {
					b.Fatal("mismatch")
				}
			}
		})
	}
	b.Run("ratio", func(b *testing.B) {
		check := func(ok func(string, string, string) bool) func() error {
			return func() error {
				if !ok(s.SessionKey, s.RawData, s.Signature) {
					return errors.New("mismatch")
				}
				return nil
			}
		}
		testutil.CompareToFloor(b, 100, check(impls[0].ok), check(impls[1].ok))
	})
}
