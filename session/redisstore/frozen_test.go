package redisstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
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
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
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
			// The default options ignore contexts: the Manager's goroutine
			// bounds each call. The recommended ones honour them: the call
			// runs on the caller's goroutine.
			assert.Equal(t, tc.opts.ContextTimeoutEnabled, s.HonorsContext())
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

// TestLoginDuringFrozenRedis: once the Manager has seen Redis fail, logins
// are refused 503 before their wx.login codes are spent at WeChat, and the
// same codes log in when Redis thaws.
func TestLoginDuringFrozenRedis(t *testing.T) {
	t.Parallel()
	const appID, secret, clients = "wx00000000000000f1", "frozen-test-secret-0123456789abc", 50
	ctx := context.Background()
	p := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: p.Addr, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
		PoolTimeout: 200 * time.Millisecond, MaxRetries: 1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	s, err := redisstore.New(c)
	require.NoError(t, err)
	m := session.NewManager(s, session.WithStoreTimeout(300*time.Millisecond), session.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, m.Err())
	srv := wxauthtest.NewServer(appID, secret)
	t.Cleanup(srv.Close)
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	h := session.LoginHandler(app, m)
	login := func(code string) int {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"`+code+`"}`))
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, r)
		return rr.Code
	}
	token, err := m.Issue(ctx, &wxauth.Session{OpenID: "o1", SessionKey: testKey})
	require.NoError(t, err)
	codes := make([]string, clients)
	for i := range codes {
		codes[i] = srv.Login("")
	}

	p.Pause(t)
	frozen := true
	t.Cleanup(func() {
		if frozen {
			p.Resume(t)
		}
	})
	_, err = m.Validate(ctx, token) // a request that finds Redis frozen
	require.ErrorIs(t, err, session.ErrStoreUnavailable)
	var wg sync.WaitGroup
	for _, code := range codes {
		wg.Go(func() { assert.Equal(t, http.StatusServiceUnavailable, login(code)) })
	}
	wg.Wait()
	assert.Zero(t, srv.Calls("/sns/jscode2session"), "no code was spent while Redis was frozen")

	p.Resume(t)
	frozen = false
	for _, code := range codes {
		// A refused login keeps its code: retrying it until Redis answers
		// again spends it once.
		require.Eventually(t, func() bool { return login(code) == http.StatusOK }, 30*time.Second, 50*time.Millisecond)
	}
	assert.Equal(t, clients, srv.Calls("/sns/jscode2session"))
}
