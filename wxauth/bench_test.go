package wxauth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wxmp/miniauth/internal/wxmock"
)

// mutexCache is the baseline: the obvious cache, a mutex around a string
// and its refresh time.
type mutexCache struct {
	mu        sync.Mutex
	tok       string
	refreshAt time.Time
}

func (c *mutexCache) get(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().Before(c.refreshAt) {
		return c.tok, nil
	}
	return "", context.DeadlineExceeded
}

// BenchmarkAccessTokenCached measures AccessToken with a cached token (the
// real clock) against the mutex baseline, serially and from all CPUs.
func BenchmarkAccessTokenCached(b *testing.B) {
	up := wxmock.New()
	a, err := New(testAppID, testSecret, WithHTTPClient(up.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.AccessToken(ctx); err != nil {
		b.Fatal(err)
	}
	base := &mutexCache{tok: wxmock.Token(1), refreshAt: time.Now().Add(time.Hour)}
	for _, bm := range []struct {
		name string
		get  func(context.Context) (string, error)
	}{
		{"App", a.AccessToken},
		{"MutexBaseline", base.get},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.get(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bm.name+"Parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bm.get(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	if n := up.Fetches(); n != 1 {
		b.Fatalf("%d upstream requests, want 1", n)
	}
}
