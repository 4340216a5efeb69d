package wxauth_test

import (
	"encoding/json"
	"testing"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/wxauth"
)

// BenchmarkAppDecrypt compares App.Decrypt (decrypt, watermark check,
// unmarshal) with the least a caller could do: crypto.Decrypt and one
// json.Unmarshal, with no watermark check.
func BenchmarkAppDecrypt(b *testing.B) {
	s := testutil.WeChatSamples().Decrypt
	app, err := wxauth.New(s.AppID, testSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("App.Decrypt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var u wxauth.UserInfo
			if err := app.Decrypt(s.SessionKey, s.EncryptedData, s.IV, &u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			plain, err := crypto.Decrypt(s.SessionKey, s.EncryptedData, s.IV)
			if err != nil {
				b.Fatal(err)
			}
			var u wxauth.UserInfo
			if err := json.Unmarshal(plain, &u); err != nil {
				b.Fatal(err)
			}
		}
	})
}
