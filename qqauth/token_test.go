package qqauth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/qqauth"
	"github.com/wxmp/miniauth/qqauth/qqauthtest"
	"github.com/wxmp/miniauth/wxauth"
)

// clock is a manual clock shared by a fake and its clients.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestAccessTokenOneFetchForMany(t *testing.T) {
	srv, app := newPair(t)
	const n = 50
	toks := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := app.AccessToken(context.Background())
			assert.NoError(t, err)
			toks[i] = tok
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.TokensIssued())
	for _, tok := range toks {
		assert.True(t, srv.TokenValid(tok))
	}
}

func TestAccessTokenFleetSharesOneStore(t *testing.T) {
	srv := qqauthtest.NewServer(testAppID, testSecret)
	defer srv.Close()
	store := wxauth.NewMemoryTokenStore()
	apps := make([]*qqauth.App, 8)
	for i := range apps {
		a, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(srv.URL), qqauth.WithTokenStore(store))
		require.NoError(t, err)
		apps[i] = a
	}
	var wg sync.WaitGroup
	toks := make([]string, 40)
	for i := range toks {
		wg.Go(func() {
			tok, err := apps[i%len(apps)].AccessToken(context.Background())
			assert.NoError(t, err)
			toks[i] = tok
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.TokensIssued(), "one getToken for the fleet: each one retires the last")
	for _, tok := range toks {
		assert.True(t, srv.TokenValid(tok))
	}
}

func TestAccessTokenRenewal(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := qqauthtest.NewServer(testAppID, testSecret, qqauthtest.WithClock(clk.Now))
	defer srv.Close()
	app, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(srv.URL), qqauth.WithClock(clk.Now))
	require.NoError(t, err)
	first, err := app.AccessToken(context.Background())
	require.NoError(t, err)

	clk.Advance(qqauthtest.TokenTTL - 6*time.Minute)
	again, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first, again, "not due yet")
	assert.Equal(t, 1, srv.TokensIssued())

	clk.Advance(2 * time.Minute) // 4 minutes left: due
	require.Eventually(t, func() bool {
		tok, err := app.AccessToken(context.Background())
		return err == nil && tok != first
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 2, srv.TokensIssued())

	clk.Advance(qqauthtest.TokenTTL) // expired: callers wait for the fetch
	tok, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.True(t, srv.TokenValid(tok))
	assert.Equal(t, 3, srv.TokensIssued())
}

func TestInvalidateAccessToken(t *testing.T) {
	srv, app := newPair(t)
	first, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	app.InvalidateAccessToken(context.Background(), first)
	second, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, first, second)
	assert.True(t, srv.TokenValid(second))
	// A stale refusal of the old token leaves the new one alone.
	app.InvalidateAccessToken(context.Background(), first)
	third, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, second, third)
	assert.Equal(t, 2, srv.TokensIssued())
}

// failingStore is a token store that is down.
type failingStore struct{}

var errDown = errors.New("store down")

func (failingStore) Load(context.Context, string) (*wxauth.Token, error) { return nil, errDown }
func (failingStore) Delete(context.Context, string, string) error        { return errDown }
func (failingStore) TryLock(context.Context, string, time.Duration) (wxauth.TokenLease, bool, error) {
	return nil, false, errDown
}

func TestAccessTokenFailsClosed(t *testing.T) {
	srv, app := newPair(t, qqauth.WithTokenStore(failingStore{}))
	_, err := app.AccessToken(context.Background())
	assert.ErrorIs(t, err, errDown)
	assert.Zero(t, srv.Calls(qqauthtest.PathToken), "no fetch without the store")
}

func TestAccessTokenContext(t *testing.T) {
	slow := qqauthtest.NewServer(testAppID, testSecret, qqauthtest.WithLatency(300*time.Millisecond))
	defer slow.Close()
	app, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(slow.URL))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = app.AccessToken(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	// The fetch went on for the callers after it.
	tok, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.True(t, slow.TokenValid(tok))
	assert.Equal(t, 1, slow.TokensIssued())
}
