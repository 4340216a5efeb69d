package crypto_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/testutil"
)

// validKey reports, independently of the package, whether s is what
// crypto accepts as a session_key or iv: standard base64 of exactly 16 bytes.
func validKey(s string) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 16 && len(s) == 24
}

func FuzzDecrypt(f *testing.F) {
	s := testutil.WeChatSamples().Decrypt
	f.Add(s.SessionKey, s.EncryptedData, s.IV)
	f.Add(s.SessionKey, s.EncryptedData[:64], s.IV)
	f.Add(s.SessionKey, tamperLastByte(f, s.EncryptedData), s.IV)
	f.Add(testKey, encryptRaw(f, rawKey, rawIV, bytes.Repeat([]byte{16}, 16)), testIV)
	f.Add(testKey, encryptRaw(f, rawKey, rawIV, bytes.Repeat([]byte{0}, 16)), testIV)
	f.Add(testKey, encryptRaw(f, rawKey, rawIV, bytes.Repeat([]byte{17}, 32)), testIV)
	f.Add("", "", "")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "====", "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "AAAA\nAAAAAAAAAAAAAAAAAAAAAA==\r\n", "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("-_-_-_-_-_-_-_-_-_-_-w==", "\x00\xff", "AAAAAAAAAAAAAAAAAAAAA===")

	f.Fuzz(func(t *testing.T, key, data, iv string) {
		check := func(key, data, iv string) {
			out, err := crypto.Decrypt(key, data, iv)
			if err != nil {
				if out != nil {
					t.Fatalf("Decrypt returned %d bytes with error %v", len(out), err)
				}
				switch {
				case !validKey(key):
					requireSentinel(t, err, crypto.ErrInvalidSessionKey)
				case !validKey(iv):
					requireSentinel(t, err, crypto.ErrInvalidIV)
				default:
					requireSentinel(t, err, crypto.ErrDecrypt)
				}
				return
			}
			if !validKey(key) || !validKey(iv) {
				t.Fatalf("Decrypt accepted key %q iv %q", key, iv)
			}
			if len(data) > crypto.MaxEncryptedDataLen {
				t.Fatalf("Decrypt accepted %d bytes of data", len(data))
			}
			ct, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				t.Fatalf("Decrypt accepted data that is not base64: %v", err)
			}
			// Strict PKCS#7 strips 1 to 16 bytes.
			if len(out) >= len(ct) || len(out) < len(ct)-16 {
				t.Fatalf("%d bytes of plaintext from %d bytes of ciphertext", len(out), len(ct))
			}
			// CBC is deterministic and the padding unique: encrypting the
			// plaintext again gives back the very same ciphertext bytes.
			again, err := crypto.Encrypt(key, iv, out)
			if err != nil {
				t.Fatalf("Encrypt after Decrypt: %v", err)
			}
			if !bytes.Equal(mustDecode(t, again), ct) {
				t.Fatalf("Encrypt(Decrypt(x)) != x")
			}
		}
		check(key, data, iv)
		// With a valid key and iv, fuzzed data reaches the padding check.
		check(testKey, data, testIV)
	})
}

func FuzzEncryptDecrypt(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte("0123456789abcdeffedcba9876543210"), []byte(`{"openId":"x"}`))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{16}, 16))
	f.Add([]byte{1, 2, 3}, bytes.Repeat([]byte{0}, 47))

	f.Fuzz(func(t *testing.T, material, plaintext []byte) {
		// Key and iv are the first 32 bytes of material, zero-filled.
		var kiv [32]byte
		copy(kiv[:], material)
		key, iv := b64(kiv[:16]), b64(kiv[16:])

		ct, err := crypto.Encrypt(key, iv, plaintext)
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		raw := mustDecode(t, ct)
		if want := (len(plaintext)/16 + 1) * 16; len(raw) != want {
			t.Fatalf("%d bytes of ciphertext for %d bytes, want %d", len(raw), len(plaintext), want)
		}
		got, err := crypto.Decrypt(key, ct, iv)
		if len(ct) > crypto.MaxEncryptedDataLen {
			requireSentinel(t, err, crypto.ErrDecrypt)
			return
		}
		if err != nil {
			t.Fatalf("Decrypt(Encrypt(x)): %v", err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Fatalf("Decrypt(Encrypt(x)) = %q, want %q", got, plaintext)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	s := testutil.WeChatSamples().Signature
	f.Add(s.SessionKey, s.RawData, s.Signature)
	f.Add(s.SessionKey, s.RawData, strings.ToUpper(s.Signature))
	f.Add(s.SessionKey, s.RawData, "")
	f.Add("", s.RawData, crypto.Sign("", s.RawData))
	f.Add(testKey, "", strings.Repeat("0", 40))
	f.Add(testKey, "raw", strings.Repeat("g", 40))
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "\x00", "\xff")

	f.Fuzz(func(t *testing.T, key, raw, sig string) {
		err := crypto.VerifySignature(key, raw, sig)
		if !validKey(key) {
			requireSentinel(t, err, crypto.ErrInvalidSessionKey)
			key = testKey // go on with a valid key
		} else if err == nil && !strings.EqualFold(sig, crypto.Sign(key, raw)) {
			t.Fatalf("VerifySignature accepted %q", sig)
		} else if err != nil {
			requireSentinel(t, err, crypto.ErrSignature)
		}

		good := crypto.Sign(key, raw)
		err = crypto.VerifySignature(key, raw, good)
		if len(raw) > crypto.MaxRawDataLen {
			requireSentinel(t, err, crypto.ErrSignature)
			return
		}
		if err != nil {
			t.Fatalf("Verify(Sign(x)): %v", err)
		}
		if err := crypto.VerifySignature(key, raw, strings.ToUpper(good)); err != nil {
			t.Fatalf("upper-case Verify(Sign(x)): %v", err)
		}
		bad := flipHex(good, len(raw)%len(good))
		requireSentinel(t, crypto.VerifySignature(key, raw, bad), crypto.ErrSignature)
	})
}

// requireSentinel fails unless err is exactly want: none of the package's
// errors wraps another or carries detail.
func requireSentinel(t *testing.T, err, want error) {
	t.Helper()
	if err != want || !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}
