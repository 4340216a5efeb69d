package baiduauth_test

import (
	"encoding/base64"
	"testing"

	"github.com/wxmp/miniauth/baiduauth"
)

// FuzzDecryptData: any ciphertext and iv under a fixed key is refused with
// an error or decrypts to user data within the plaintext, never a panic;
// and any data round-trips through Encrypt.
func FuzzDecryptData(f *testing.F) {
	f.Add(sampleData, sampleIV, []byte(samplePlain))
	f.Add("", "", []byte{})
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==", []byte(`{}`))
	f.Fuzz(func(t *testing.T, data, iv string, plain []byte) {
		got, err := baiduauth.DecryptData(testAppKey, sampleSessionKey, data, iv)
		if err == nil && len(got) > len(data) {
			t.Fatalf("%d bytes of user data out of %d of ciphertext", len(got), len(data))
		}
		iv16 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
		ct, err := baiduauth.Encrypt(testAppKey, sampleSessionKey, iv16, plain)
		if err != nil {
			t.Fatal(err)
		}
		back, err := baiduauth.DecryptData(testAppKey, sampleSessionKey, ct, iv16)
		if err != nil && len(ct) <= baiduauth.MaxEncryptedDataLen {
			t.Fatalf("round trip: %v", err)
		}
		if err == nil && string(back) != string(plain) {
			t.Fatalf("round trip: got %q, want %q", back, plain)
		}
	})
}
