// Package redistest connects tests to the real redis-server named by the
// REDIS_ADDR environment variable (host:port), as .ci/run starts one.
//
// Without REDIS_ADDR a test is skipped with a message saying how to run it;
// with CI=true it fails instead, so CI cannot pass by skipping.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr returns REDIS_ADDR, or skips t (fails it when CI=true) when unset.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REDIS_ADDR is not set but CI=true: the Redis tests must run in CI (.ci/run starts redis-server)")
		}
		t.Skip("REDIS_ADDR not set: start redis-server and run with REDIS_ADDR=127.0.0.1:6379 to test against Redis (bash .ci/run does this)")
	}
	return addr
}

// Client returns a client of the server at REDIS_ADDR, pinged and closed at
// the end of the test. A server that does not answer fails the test.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr(t)})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at REDIS_ADDR=%s does not answer: %v", os.Getenv("REDIS_ADDR"), err)
	}
	return c
}

// Prefix returns a key prefix unique to this test run, so tests that share
// one server (parallel tests, parallel packages) never see each other's
// keys. Keys under it are deleted at the end of the test.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := "miniauth-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, p+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return p
}
