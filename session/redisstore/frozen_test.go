package redisstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
	"github.com/wxmp/miniauth/wxauth"
)

// frozenBound is the longest a request may wait for its 503 with a frozen
// Redis. It is an upper bound generous enough for a loaded CI machine, not
// a benchmark: the Manager's store timeout is 1 s or less here, where
// go-redis alone held requests 8 to 25 s.
const frozenBound = 5 * time.Second

// TestFrozenRedis freezes a redis-server (SIGSTOP) under a Manager: one
// Validate, and 100 concurrent middleware requests, get their 503 within the
// store timeout plus slack, with go-redis's default options as well as the
// recommended ones; once the server thaws, the token works again.
func TestFrozenRedis(t *testing.T) {
	t.Parallel()
	p := redistest.Start(t)
	for _, tc := range []struct {
		name    string
		opts    *redis.Options
		timeout time.Duration
	}{
		{"default go-redis options, default store timeout", &redis.Options{Addr: p.Addr}, session.DefaultStoreTimeout},
		{"recommended go-redis options, 300ms store timeout", &redis.Options{Addr: p.Addr,
			DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
			PoolTimeout: 200 * time.Millisecond, MaxRetries: 1, ContextTimeoutEnabled: true}, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) { // one after the other: they freeze the same server
			ctx := context.Background()
			c := redis.NewClient(tc.opts)
			t.Cleanup(func() { _ = c.Close() })
			s, err := redisstore.New(c)
			require.NoError(t, err)
			m := session.NewManager(s, session.WithStoreTimeout(tc.timeout), session.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, m.Err())
			token, err := m.Issue(ctx, &wxauth.Session{OpenID: "o1", SessionKey: testKey})
			require.NoError(t, err)

			p.Pause(t)
			frozen := true
			t.Cleanup(func() {
				if frozen {
					p.Resume(t)
				}
			})

			start := time.Now()
			_, err = m.Validate(ctx, token)
			took := time.Since(start)
			require.ErrorIs(t, err, session.ErrStoreUnavailable)
			assert.NotErrorIs(t, err, session.ErrInvalidToken)
			assert.Less(t, took, frozenBound)
			t.Logf("frozen Redis: one Validate failed after %s (store timeout %s)", took.Round(time.Millisecond), tc.timeout)

			const clients = 100
			h := m.Middleware(http.NotFoundHandler())
			waits := make([]time.Duration, clients)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Go(func() {
					r := httptest.NewRequest(http.MethodGet, "/me", nil)
					r.Header.Set("Authorization", "Bearer "+token)
					rr := httptest.NewRecorder()
					start := time.Now()
					h.ServeHTTP(rr, r)
					waits[i] = time.Since(start)
					assert.Equal(t, http.StatusServiceUnavailable, rr.Code)
				})
			}
			wg.Wait()
			slices.Sort(waits)
			assert.Less(t, waits[clients-1], frozenBound)
			t.Logf("frozen Redis: %d concurrent requests got 503 after median %s, max %s",
				clients, waits[clients/2].Round(time.Millisecond), waits[clients-1].Round(time.Millisecond))

			p.Resume(t)
			frozen = false
			require.Eventually(t, func() bool {
				_, err := m.Validate(ctx, token)
				return err == nil
			}, 30*time.Second, 20*time.Millisecond, "the token works again once Redis thaws")
		})
	}
}
