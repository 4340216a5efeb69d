package redistoken_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/internal/wxmock"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/redistoken"
)

const (
	appID  = "wx0123456789abcdef"
	secret = "s3cr3t-0123456789abcdef0123456789"
	key    = "tiihtNczf5v6AKRyjwEUhQ=="
)

// newStore returns a store on its own client of the test Redis, under prefix.
func newStore(t *testing.T, prefix string) *redistoken.Store {
	t.Helper()
	s, err := redistoken.New(redistest.Client(t), redistoken.WithKeyPrefix(prefix))
	require.NoError(t, err)
	return s
}

// instance is one server of a fleet: its own Redis client and App.
func instance(t *testing.T, up *wxmock.Upstream, clk *wxmock.Clock, store wxauth.TokenStore, opts ...wxauth.Option) *wxauth.App {
	t.Helper()
	a, err := wxauth.New(appID, secret, append([]wxauth.Option{
		wxauth.WithHTTPClient(up.Client()), wxauth.WithClock(clk.Now), wxauth.WithTokenStore(store),
		wxauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	return a
}

func TestNew(t *testing.T) {
	t.Parallel()
	_, err := redistoken.New(nil)
	require.Error(t, err)
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, p := range []string{"", strings.Repeat("p", 257)} {
		_, err = redistoken.New(c, redistoken.WithKeyPrefix(p))
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "redistoken: "))
	}
	s, err := redistoken.New(c, nil)
	require.NoError(t, err)
	ctx := context.Background()
	for _, id := range []string{"", strings.Repeat("a", 129)} {
		_, err = s.Load(ctx, id)
		require.Error(t, err)
		require.Error(t, s.Save(ctx, id, &wxauth.Token{AccessToken: "T"}))
		require.Error(t, s.Delete(ctx, id, "T"))
		_, _, err = s.TryLock(ctx, id, time.Second)
		require.Error(t, err)
	}
}

func TestStoreContract(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := redistoken.New(c, redistoken.WithKeyPrefix(prefix))
	require.NoError(t, err)
	ctx := context.Background()

	tok, err := s.Load(ctx, appID)
	require.NoError(t, err)
	assert.Nil(t, tok, "nothing stored: nil, no error")

	now := time.Now().Truncate(time.Millisecond)
	in := &wxauth.Token{AccessToken: "TOKEN_ONE_abcdef", IssuedAt: now, ExpiresAt: now.Add(2 * time.Hour)}
	require.NoError(t, s.Save(ctx, appID, in))
	tok, err = s.Load(ctx, appID)
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Equal(t, in.AccessToken, tok.AccessToken)
	assert.True(t, in.ExpiresAt.Equal(tok.ExpiresAt))
	assert.True(t, in.IssuedAt.Equal(tok.IssuedAt))
	ttl := c.PTTL(ctx, prefix+appID).Val()
	assert.Greater(t, ttl, time.Hour, "the key expires with the token")
	other, err := s.Load(ctx, "wxOTHERAPP")
	require.NoError(t, err)
	assert.Nil(t, other, "keyed by appid")

	require.NoError(t, s.Delete(ctx, appID, "TOKEN_ZERO_older"))
	tok, _ = s.Load(ctx, appID)
	assert.NotNil(t, tok, "deleting another token is a no-op")
	require.NoError(t, s.Delete(ctx, appID, in.AccessToken))
	tok, _ = s.Load(ctx, appID)
	assert.Nil(t, tok)

	require.NoError(t, s.Save(ctx, appID, &wxauth.Token{AccessToken: "NEVER_EXPIRES_xyz"}))
	tok, _ = s.Load(ctx, appID)
	require.NotNil(t, tok)
	assert.True(t, tok.ExpiresAt.IsZero())
	require.Error(t, s.Save(ctx, appID, nil))
	require.Error(t, s.Save(ctx, appID, &wxauth.Token{}))

	// Garbage under the key reads as nothing.
	require.NoError(t, c.HSet(ctx, prefix+appID, "e", "soon").Err())
	tok, err = s.Load(ctx, appID)
	require.NoError(t, err)
	assert.Nil(t, tok)
}

func TestLock(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, redistest.Client(t))
	a, b := newStore(t, prefix), newStore(t, prefix) // two instances
	ctx := context.Background()

	unlockA, ok, err := a.TryLock(ctx, appID, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = b.TryLock(ctx, appID, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "held by the other instance")
	_, ok, _ = b.TryLock(ctx, "wxOTHERAPP", time.Minute)
	assert.True(t, ok, "locks are per app")
	require.NoError(t, unlockA(ctx))
	unlockB, ok, err := b.TryLock(ctx, appID, 50*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)

	// b's lock expires by itself; a takes it; b's late unlock leaves a's.
	var unlockA2 func(context.Context) error
	require.Eventually(t, func() bool {
		unlockA2, ok, err = a.TryLock(ctx, appID, time.Minute)
		return err == nil && ok
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, unlockB(ctx))
	_, ok, _ = b.TryLock(ctx, appID, time.Minute)
	assert.False(t, ok, "b's unlock did not release a's lock")
	require.NoError(t, unlockA2(ctx))
	_, _, err = a.TryLock(ctx, appID, time.Microsecond)
	require.Error(t, err)
}

// TestTwoInstancesOneRefreshPerExpiry: two servers, each with its own Redis
// client, hammer AccessToken at three successive expiries; WeChat sees one
// token request per expiry.
func TestTwoInstancesOneRefreshPerExpiry(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, redistest.Client(t))
	up := wxmock.New()
	clk := wxmock.NewClock()
	apps := []*wxauth.App{
		instance(t, up, clk, newStore(t, prefix)),
		instance(t, up, clk, newStore(t, prefix)),
	}
	const perApp = 100
	for round := 1; round <= 3; round++ {
		release := up.Hold() // everyone arrives while the one fetch is in flight
		var wg, started sync.WaitGroup
		started.Add(2 * perApp)
		got := make(chan string, 2*perApp)
		for _, a := range apps {
			for range perApp {
				wg.Add(1)
				go func() {
					defer wg.Done()
					started.Done()
					tok, err := a.AccessToken(context.Background())
					assert.NoError(t, err)
					got <- tok
				}()
			}
		}
		started.Wait()
		release()
		wg.Wait()
		close(got)
		for tok := range got {
			require.Equal(t, wxmock.Token(round), tok, "both instances use the one token")
		}
		require.Equal(t, round, up.Fetches(), "round %d: one upstream request across both instances", round)
		clk.Add(3 * time.Hour)
	}
	t.Logf("two instances sharing Redis, 3 expiries x %d callers: %d upstream token requests", 2*perApp, up.Fetches())
}

func TestLockHolderDies(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, redistest.Client(t))
	up := wxmock.New()
	dead := newStore(t, prefix)
	// An instance took the lock and died before saving a token.
	_, ok, err := dead.TryLock(context.Background(), appID, 300*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)

	a := instance(t, up, wxmock.NewClock(), newStore(t, prefix))
	tok, err := a.AccessToken(context.Background())
	require.NoError(t, err, "the lock expired and this instance took over")
	assert.Equal(t, wxmock.Token(1), tok)
	assert.Equal(t, 1, up.Fetches())
}

func TestWaiterReadsTheHoldersToken(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, redistest.Client(t))
	up := wxmock.New()
	other := newStore(t, prefix)
	ctx := context.Background()
	unlock, ok, err := other.TryLock(ctx, appID, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	a := instance(t, up, wxmock.NewClock(), newStore(t, prefix))
	done := make(chan string)
	go func() {
		tok, err := a.AccessToken(ctx)
		assert.NoError(t, err)
		done <- tok
	}()
	// The other instance finishes its refresh.
	require.NoError(t, other.Save(ctx, appID, &wxauth.Token{AccessToken: "SHARED_TOKEN_abc", ExpiresAt: time.Now().Add(2 * time.Hour)}))
	require.NoError(t, unlock(ctx))
	assert.Equal(t, "SHARED_TOKEN_abc", <-done)
	assert.Equal(t, 0, up.Fetches(), "the waiter read the token instead of fetching")
}

// TestRefusedTokenAcrossInstances: instance A is refused token 1 and fetches
// token 2; instance B, still holding token 1 in memory, is refused too, but
// must not delete token 2 from Redis, and picks it up without a fetch.
func TestRefusedTokenAcrossInstances(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, redistest.Client(t))
	up := wxmock.New()
	clk := wxmock.NewClock()
	storeA := newStore(t, prefix)
	a := instance(t, up, clk, storeA)
	b := instance(t, up, clk, newStore(t, prefix))
	ctx := context.Background()
	for _, app := range []*wxauth.App{a, b} {
		tok, err := app.AccessToken(ctx)
		require.NoError(t, err)
		require.Equal(t, wxmock.Token(1), tok)
	}
	require.Equal(t, 1, up.Fetches())

	up.Revoke(wxmock.Token(1))
	require.NoError(t, a.CheckSessionKey(ctx, "oUser1", key), "A retried with token 2")
	require.NoError(t, b.CheckSessionKey(ctx, "oUser1", key), "B retried with token 2")
	assert.Equal(t, 2, up.Fetches(), "B read token 2 from Redis")
	tok, err := storeA.Load(ctx, appID)
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Equal(t, wxmock.Token(2), tok.AccessToken, "B's invalidation of token 1 left token 2")
}

// TestRedisDown: with stable_token an instance fetches on its own; with the
// classic endpoint it refuses, since its fetch would knock out the fleet's
// token.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	store, err := redistoken.New(c)
	require.NoError(t, err)

	for _, classic := range []bool{false, true} {
		t.Run(fmt.Sprint("classic=", classic), func(t *testing.T) {
			up := wxmock.New()
			var opts []wxauth.Option
			if classic {
				opts = append(opts, wxauth.WithClassicToken())
			}
			a := instance(t, up, wxmock.NewClock(), store, opts...)
			tok, err := a.AccessToken(context.Background())
			if classic {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "token store")
				assert.NotContains(t, err.Error(), secret)
				assert.Equal(t, 0, up.Fetches())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, wxmock.Token(1), tok)
			assert.Equal(t, 1, up.Fetches())
		})
	}
}

// Example of a fleet sharing one token through Redis.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	store, err := redistoken.New(rdb)
	if err != nil {
		panic(err)
	}
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithTokenStore(store),
		wxauth.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		panic(err)
	}
	fmt.Println(app.AppID())
	// Output: wx0123456789abcdef
}
