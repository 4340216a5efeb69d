package tokencache_test

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

	"github.com/wxmp/miniauth/internal/tokencache"
	"github.com/wxmp/miniauth/wxauth"
)

type downStore struct{}

var errDown = errors.New("store down")

func (downStore) Load(context.Context, string) (*wxauth.Token, error) { return nil, errDown }
func (downStore) Delete(context.Context, string, string) error        { return errDown }
func (downStore) TryLock(context.Context, string, time.Duration) (wxauth.TokenLease, bool, error) {
	return nil, false, errDown
}

func newCache(store wxauth.TokenStore, failClosed bool, fetches *atomic.Int32) *tokencache.Cache {
	return tokencache.New(tokencache.Config{
		Package: "test", AppID: "app", Store: store, FailClosed: failClosed,
		MaxMargin: time.Minute, FetchBound: time.Second,
		Fetch: func(context.Context) (*wxauth.Token, error) {
			n := fetches.Add(1)
			now := time.Now()
			return &wxauth.Token{AccessToken: fmt.Sprintf("TOKEN_%d", n), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, nil
		},
	})
}

func TestStoreFailure(t *testing.T) {
	var open, closed atomic.Int32
	tok, err := newCache(downStore{}, false, &open).Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_1", tok)
	assert.EqualValues(t, 1, open.Load(), "fetched directly when the platform keeps old tokens valid")

	_, err = newCache(downStore{}, true, &closed).Get(context.Background())
	assert.ErrorIs(t, err, errDown)
	assert.Zero(t, closed.Load(), "no fetch without the store where a fetch retires the fleet's token")
}

func TestSingleFlightAndInvalidate(t *testing.T) {
	var n atomic.Int32
	c := newCache(nil, true, &n)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			tok, err := c.Get(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, "TOKEN_1", tok)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, n.Load())
	c.Invalidate(context.Background(), "TOKEN_1")
	tok, err := c.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_2", tok)
}

func TestValid(t *testing.T) {
	assert.True(t, tokencache.Valid("abc_DEF-123"))
	for _, s := range []string{"", "a b", "a\n", string(make([]byte, tokencache.MaxTokenLen+1))} {
		assert.False(t, tokencache.Valid(s), "%q", s)
	}
}

// A cached token costs no lock, no request and no allocation.
func TestCachedTokenAllocatesNothing(t *testing.T) {
	var n atomic.Int32
	c := newCache(nil, true, &n)
	_, err := c.Get(context.Background())
	require.NoError(t, err)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.Get(ctx); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	assert.EqualValues(t, 1, n.Load())
}

// After a failed background refresh, the token held serves without a new
// fetch at every call, until retryGap has passed.
func TestFailedRefreshHolds(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	var fetches atomic.Int32
	fail := atomic.Bool{}
	c := tokencache.New(tokencache.Config{
		Package: "test", AppID: "app", MaxMargin: time.Minute, FetchBound: time.Second, Now: clock,
		Fetch: func(context.Context) (*wxauth.Token, error) {
			fetches.Add(1)
			if fail.Load() {
				return nil, errDown
			}
			n := clock()
			return &wxauth.Token{AccessToken: "TOKEN", IssuedAt: n, ExpiresAt: n.Add(time.Hour)}, nil
		},
	})
	_, err := c.Get(context.Background())
	require.NoError(t, err)
	fail.Store(true)
	advance(time.Hour - 30*time.Second) // due, still valid
	tok, err := c.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "TOKEN", tok)
	require.Eventually(t, func() bool { return fetches.Load() == 2 }, time.Second, time.Millisecond)
	for range 20 {
		tok, err = c.Get(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "TOKEN", tok)
	}
	assert.EqualValues(t, 2, fetches.Load(), "no fetch at every call after a failure")
	advance(11 * time.Second)
	_, _ = c.Get(context.Background())
	require.Eventually(t, func() bool { return fetches.Load() == 3 }, time.Second, time.Millisecond)
}
