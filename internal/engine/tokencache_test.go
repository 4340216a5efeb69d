package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// clock is a clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// source hands out TOKEN_1, TOKEN_2, ... living life on clk, counting
// fetches; gate, when set, holds each fetch until it is closed.
type source struct {
	clk     *clock
	life    time.Duration
	fetches atomic.Int32
	gate    chan struct{}
	same    bool // hand out TOKEN_1 every time
}

func (s *source) Token(ctx context.Context) (*miniauth.Token, error) {
	n := s.fetches.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.same {
		n = 1
	}
	now := s.clk.Now()
	return &miniauth.Token{AccessToken: fmt.Sprintf("TOKEN_%d", n), IssuedAt: now, ExpiresAt: now.Add(s.life)}, nil
}

func newCache(t *testing.T, tc engine.TokenConfig) *engine.TokenCache {
	t.Helper()
	c, _ := newClient(t, engine.Config{})
	if tc.Key == "" {
		tc.Key = "app1"
	}
	cache, err := c.NewTokenCache(tc)
	require.NoError(t, err)
	return cache
}

// TestTokenCacheOneFetchForManyCallers: callers without a token wait for
// one fetch, in one process and across a fleet sharing a store.
func TestTokenCacheOneFetchForManyCallers(t *testing.T) {
	t.Parallel()
	clk := newClock()
	src := &source{clk: clk, life: 2 * time.Hour, gate: make(chan struct{})}
	store := miniauth.NewMemoryTokenStore(miniauth.MemoryTokenStoreClock(clk.Now))
	caches := []*engine.TokenCache{
		newCache(t, engine.TokenConfig{Source: src, Store: store, Now: clk.Now}),
		newCache(t, engine.TokenConfig{Source: src, Store: store, Now: clk.Now}),
	}
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			tok, err := caches[i%2].Get(context.Background())
			if assert.NoError(t, err) {
				assert.Equal(t, "TOKEN_1", tok)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let callers pile up on the held fetch
	close(src.gate)
	wg.Wait()
	assert.Equal(t, int32(1), src.fetches.Load(), "one fetch for 500 callers on two instances")
}

// TestTokenCacheRenewalRule: a platform's Margin decides when a token is
// replaced: here Kuaishou's 48 h token, renewed an hour before it expires,
// in the background while the old one serves.
func TestTokenCacheRenewalRule(t *testing.T) {
	t.Parallel()
	clk := newClock()
	src := &source{clk: clk, life: 48 * time.Hour}
	cache := newCache(t, engine.TokenConfig{Source: src, Now: clk.Now,
		Margin: func(time.Duration) time.Duration { return time.Hour }})
	ctx := context.Background()
	tok, err := cache.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_1", tok)

	clk.Advance(47*time.Hour - time.Nanosecond)
	tok, err = cache.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_1", tok)
	assert.Equal(t, int32(1), src.fetches.Load(), "not due yet")

	clk.Advance(time.Nanosecond)
	tok, err = cache.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_1", tok, "due: the old token serves while the refresh runs")
	cache.WaitRefresh()
	tok, err = cache.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_2", tok)
	assert.Equal(t, int32(2), src.fetches.Load())
}

func TestRefreshAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		tok    miniauth.Token
		margin func(time.Duration) time.Duration
		want   time.Time
	}{
		{"wechat 2 h: 4 min 50 s before", miniauth.Token{IssuedAt: now, ExpiresAt: now.Add(2 * time.Hour)},
			engine.DefaultMargin, now.Add(2*time.Hour - engine.MaxRefreshMargin)},
		{"300 s left: a fifth", miniauth.Token{IssuedAt: now, ExpiresAt: now.Add(300 * time.Second)},
			engine.DefaultMargin, now.Add(240 * time.Second)},
		{"no IssuedAt: from now", miniauth.Token{ExpiresAt: now.Add(100 * time.Second)},
			engine.DefaultMargin, now.Add(80 * time.Second)},
		{"never expires", miniauth.Token{}, engine.DefaultMargin, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"margin over the life: due now", miniauth.Token{IssuedAt: now, ExpiresAt: now.Add(time.Minute)},
			func(time.Duration) time.Duration { return time.Hour }, now},
		{"negative margin: at expiry", miniauth.Token{IssuedAt: now, ExpiresAt: now.Add(time.Minute)},
			func(time.Duration) time.Duration { return -time.Hour }, now.Add(time.Minute)},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, engine.RefreshAt(&tt.tok, now, tt.margin), tt.name)
	}
}

// failingStore is a TokenStore whose server is down.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) Load(context.Context, string) (*miniauth.Token, error) { return nil, errStoreDown }
func (failingStore) Delete(context.Context, string, string) error          { return errStoreDown }
func (failingStore) TryLock(context.Context, string, time.Duration) (miniauth.TokenLease, bool, error) {
	return nil, false, errStoreDown
}

func TestTokenCacheStoreDown(t *testing.T) {
	t.Parallel()
	for _, failClosed := range []bool{false, true} {
		t.Run(fmt.Sprint("failClosed=", failClosed), func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			src := &source{clk: clk, life: time.Hour}
			cache := newCache(t, engine.TokenConfig{Source: src, Store: failingStore{}, Now: clk.Now, FailClosed: failClosed})
			tok, err := cache.Get(context.Background())
			if failClosed {
				require.ErrorIs(t, err, errStoreDown)
				assert.Contains(t, err.Error(), "testauth: access token: token store load failed")
				assert.Equal(t, int32(0), src.fetches.Load(), "a fetch of its own would knock out the fleet's token")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "TOKEN_1", tok)
		})
	}
}

var errRefused = errors.New("token refused")

// TestTokenCacheCall: a refused token is invalidated and the call made once
// more with a new one; a refusal of the new one, or a source that hands
// back the refused token, ends the call.
func TestTokenCacheCall(t *testing.T) {
	t.Parallel()
	refused := func(err error) bool { return errors.Is(err, errRefused) }
	tests := []struct {
		name      string
		same      bool
		refuse    map[string]bool
		wantErr   error
		wantCalls []string
	}{
		{"accepted", false, nil, nil, []string{"TOKEN_1"}},
		{"refused once", false, map[string]bool{"TOKEN_1": true}, nil, []string{"TOKEN_1", "TOKEN_2"}},
		{"refused twice", false, map[string]bool{"TOKEN_1": true, "TOKEN_2": true}, errRefused, []string{"TOKEN_1", "TOKEN_2"}},
		{"the same token back", true, map[string]bool{"TOKEN_1": true}, errRefused, []string{"TOKEN_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			src := &source{clk: clk, life: time.Hour, same: tt.same}
			cache := newCache(t, engine.TokenConfig{Source: src, Now: clk.Now})
			var calls []string
			err := cache.Call(context.Background(), refused, func(tok string) error {
				calls = append(calls, tok)
				if tt.refuse[tok] {
					return errRefused
				}
				return nil
			})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCalls, calls)
		})
	}
}

func TestTokenFromReply(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := func(v int64) *int64 { return &v }
	tests := []struct {
		name      string
		tok       string
		expiresIn *int64
		maxLife   time.Duration
		why       string
		life      time.Duration
	}{
		{"wechat", "ACCESS_TOKEN", n(7200), 24 * time.Hour, "", 2 * time.Hour},
		{"baidu 30 days", "24.abc.2592000", n(2592000), 31 * 24 * time.Hour, "", 30 * 24 * time.Hour},
		{"last second", "T", n(0), time.Hour, "", time.Second},
		{"over the platform's max", "T", n(7201), 2 * time.Hour, "expires_in 7201", 0},
		{"negative", "T", n(-1), time.Hour, "expires_in -1", 0},
		{"missing expires_in", "T", nil, time.Hour, "no expires_in", 0},
		{"empty token", "", n(7200), 24 * time.Hour, "no usable access_token", 0},
		{"token with a space", "A B", n(7200), 24 * time.Hour, "no usable access_token", 0},
	}
	for _, tt := range tests {
		tok, why := engine.TokenFromReply(tt.tok, tt.expiresIn, tt.maxLife, now)
		assert.Equal(t, tt.why, why, tt.name)
		if tt.why != "" {
			assert.Nil(t, tok, tt.name)
			continue
		}
		require.NotNil(t, tok, tt.name)
		assert.Equal(t, tt.tok, tok.AccessToken)
		assert.Equal(t, now, tok.IssuedAt)
		assert.Equal(t, now.Add(tt.life), tok.ExpiresAt, tt.name)
	}
}

func TestNewTokenCacheValidates(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, engine.Config{})
	_, err := c.NewTokenCache(engine.TokenConfig{Key: "app"})
	require.ErrorContains(t, err, "testauth: token cache needs a key and a source")
	_, err = c.NewTokenCache(engine.TokenConfig{Source: miniauth.StaticTokenSource("T")})
	require.Error(t, err)
	src := engine.TokenSourceFunc(func(context.Context) (*miniauth.Token, error) { return &miniauth.Token{AccessToken: "FUNC"}, nil })
	cache, err := c.NewTokenCache(engine.TokenConfig{Key: "app", Source: src})
	require.NoError(t, err)
	tok, err := cache.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "FUNC", tok)
}

// TestTokenCacheRetryGap: after a failed background refresh, no other
// starts for RetryGap while the token held is valid; then one does.
func TestTokenCacheRetryGap(t *testing.T) {
	t.Parallel()
	clk := newClock()
	var fetches atomic.Int32
	var fail atomic.Bool
	src := engine.TokenSourceFunc(func(context.Context) (*miniauth.Token, error) {
		n := fetches.Add(1)
		if fail.Load() {
			return nil, errors.New("platform down")
		}
		now := clk.Now()
		return &miniauth.Token{AccessToken: fmt.Sprintf("TOKEN_%d", n), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, nil
	})
	cache := newCache(t, engine.TokenConfig{Source: src, Now: clk.Now, RetryGap: 10 * time.Second, Margin: engine.MarginUpTo(5 * time.Minute)})
	ctx := context.Background()
	tok, err := cache.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, "TOKEN_1", tok)

	fail.Store(true)
	clk.Advance(time.Hour - 4*time.Minute) // due: 5 min margin, 4 min left
	tok, err = cache.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_1", tok, "the valid token is served while the refresh runs")
	cache.WaitRefresh()
	require.Equal(t, int32(2), fetches.Load())
	for range 100 {
		tok, err = cache.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "TOKEN_1", tok)
	}
	cache.WaitRefresh()
	assert.Equal(t, int32(2), fetches.Load(), "no refresh within the retry gap")

	fail.Store(false)
	clk.Advance(10 * time.Second)
	_, err = cache.Get(ctx)
	require.NoError(t, err)
	cache.WaitRefresh()
	assert.Equal(t, int32(3), fetches.Load(), "one refresh after the gap")
	tok, err = cache.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_3", tok)
}

func TestMarginUpTo(t *testing.T) {
	t.Parallel()
	m := engine.MarginUpTo(30 * time.Minute)
	for _, tc := range []struct{ life, want time.Duration }{
		{48 * time.Hour, 30 * time.Minute},
		{time.Hour, 12 * time.Minute},
		{0, 0},
	} {
		assert.Equal(t, tc.want, m(tc.life), tc.life)
	}
}

func TestNewTokenCacheRejectsNegativeRetryGap(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, engine.Config{})
	_, err := c.NewTokenCache(engine.TokenConfig{Key: "app", Source: miniauth.StaticTokenSource("T"), RetryGap: -time.Second})
	require.ErrorContains(t, err, "retry gap")
}
