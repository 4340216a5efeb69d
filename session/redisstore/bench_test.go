package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
	"github.com/wxmp/miniauth/wxauth"
)

// BenchmarkValidateOnRedis compares a Get on the store ("store") with a
// Validate through the Manager ("manager"), which bounds the call by the
// store timeout with a goroutine and a timer: the price of the bound.
func BenchmarkValidateOnRedis(b *testing.B) {
	ctx := context.Background()
	c := redistest.Client(b)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(redistest.Prefix(b, c)))
	if err != nil {
		b.Fatal(err)
	}
	m := session.NewManager(s)
	token, err := m.Issue(ctx, &wxauth.Session{OpenID: "o1", SessionKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Get(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("manager", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Validate(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
