package wxauth_test

import (
	"encoding/json"
	"testing"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/wxauth"
)

// BenchmarkAppDecrypt compares App.Decrypt into a UserInfo (decrypt,
// unmarshal, watermark check) with the floor a caller could write with the
// standard library alone: testutil.FloorDecrypt and one json.Unmarshal, with
// no watermark check. "ratio" runs the two interleaved; the goal is
// ≤ 1.05.
func BenchmarkAppDecrypt(b *testing.B) {
	s := testutil.WeChatSamples().Decrypt
	app, err := wxauth.New(s.AppID, testSecret)
	if err != nil {
		b.Fatal(err)
	}
	impls := []struct {
		name string
		fn   func() error
	}{
		{"App.Decrypt", func() error {
			var u wxauth.UserInfo
			return app.Decrypt(s.SessionKey, s.EncryptedData, s.IV, &u)
		}},
		{"floor", func() error {
			plain, err := testutil.FloorDecrypt(s.SessionKey, s.EncryptedData, s.IV)
			if err != nil {
				return err
			}
			var u wxauth.UserInfo
			return json.Unmarshal(plain, &u)
		}},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := impl.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ratio", func(b *testing.B) { testutil.CompareToFloor(b, 20, impls[0].fn, impls[1].fn) })
}
