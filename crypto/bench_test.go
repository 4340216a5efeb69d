package crypto_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/testutil"
)

// stdlibDecrypt is the baseline: how the job is plainly written with the
// standard library alone, as most WeChat SDKs do it.
func stdlibDecrypt(sessionKey, encryptedData, iv string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil {
		return nil, err
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(ivb) != aes.BlockSize || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, errors.New("bad length")
	}
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(data, data)
	pad := int(data[len(data)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, errors.New("bad padding")
	}
	return data[:len(data)-pad], nil
}

// stdlibVerify is the baseline signature check.
func stdlibVerify(sessionKey, rawData, signature string) bool {
	sum := sha1.Sum([]byte(rawData + sessionKey))
	return hex.EncodeToString(sum[:]) == signature
}

func BenchmarkDecrypt(b *testing.B) {
	s := testutil.WeChatSamples().Decrypt
	impls := []struct {
		name string
		fn   func(sessionKey, encryptedData, iv string) ([]byte, error)
	}{
		{"miniauth", crypto.Decrypt},
		{"stdlib", stdlibDecrypt},
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
}

func BenchmarkVerifySignature(b *testing.B) {
	s := testutil.WeChatSamples().Signature
	b.Run("miniauth", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := crypto.VerifySignature(s.SessionKey, s.RawData, s.Signature); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !stdlibVerify(s.SessionKey, s.RawData, s.Signature) {
				b.Fatal("mismatch")
			}
		}
	})
}
