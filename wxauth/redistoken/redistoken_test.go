package redistoken_test

import (
	"context"
	"fmt"
	"net"
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
	"github.com/wxmp/miniauth/wxauth/tokenstoretest"
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

// tokenKey is the Redis key of appID's token under prefix.
func tokenKey(prefix string) string { return prefix + "{" + appID + "}" }

// save stores tok under appID's lock, as a refresh does.
func save(t *testing.T, s *redistoken.Store, tok *wxauth.Token) error {
	t.Helper()
	lease, ok, err := s.TryLock(context.Background(), appID, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	defer func() { require.NoError(t, lease.Unlock(context.Background())) }()
	return lease.Save(context.Background(), tok)
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
		require.Error(t, s.Delete(ctx, id, "T"))
		_, _, err = s.TryLock(ctx, id, time.Second)
		require.Error(t, err)
	}
}

// TestStoreConformance checks the store against the wxauth.TokenStore
// contract: each subtest has a key prefix of its own, and each instance its
// own Redis client, as the servers of a fleet do.
func TestStoreConformance(t *testing.T) {
	t.Parallel()
	tokenstoretest.Run(t, func(t *testing.T) func() wxauth.TokenStore {
		prefix := redistest.Prefix(t, redistest.Client(t))
		return func() wxauth.TokenStore { return newStore(t, prefix) }
	})
}

// TestStoreOnRedis checks what the contract leaves to the store: the key
// expires with the token, garbage under the key reads as nothing, the size
// and ttl limits, and the text of a lost lease's error.
func TestStoreOnRedis(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s := newStore(t, prefix)
	ctx := context.Background()

	require.NoError(t, save(t, s, &wxauth.Token{AccessToken: "TOKEN_ONE_abcdef", ExpiresAt: time.Now().Add(2 * time.Hour)}))
	ttl := c.PTTL(ctx, tokenKey(prefix)).Val()
	assert.Greater(t, ttl, time.Hour, "the key expires with the token")
	assert.LessOrEqual(t, ttl, 2*time.Hour)
	require.NoError(t, save(t, s, &wxauth.Token{AccessToken: "NEVER_EXPIRES_xyz"}))
	assert.Equal(t, time.Duration(-1), c.PTTL(ctx, tokenKey(prefix)).Val(), "a token that never expires: a key without expiry")

	require.Error(t, save(t, s, &wxauth.Token{AccessToken: strings.Repeat("T", 2049)}))
	tok, err := s.Load(ctx, appID)
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Equal(t, "NEVER_EXPIRES_xyz", tok.AccessToken, "a refused token stored nothing")

	// Garbage under the key reads as nothing.
	require.NoError(t, c.HSet(ctx, tokenKey(prefix), "e", "soon").Err())
	tok, err = s.Load(ctx, appID)
	require.NoError(t, err)
	assert.Nil(t, tok)

	_, _, err = s.TryLock(ctx, appID, time.Microsecond)
	require.Error(t, err, "Redis locks in milliseconds")
	lease, ok, err := s.TryLock(ctx, appID, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, lease.Unlock(ctx))
	err = lease.Save(ctx, &wxauth.Token{AccessToken: "LATE_TOKEN"})
	require.ErrorIs(t, err, wxauth.ErrLeaseLost)
	assert.True(t, strings.HasPrefix(err.Error(), "redistoken: "), err.Error())
}

// hashTag returns the part of key that Redis Cluster hashes: what is
// between the first "{" and the next "}", if not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// TestKeysShareAHashSlot: the save script touches the token key and the
// lock key, which a Redis Cluster allows only within one hash slot.
func TestKeysShareAHashSlot(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s := newStore(t, prefix)
	ctx := context.Background()
	lease, ok, err := s.TryLock(ctx, appID, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, lease.Save(ctx, &wxauth.Token{AccessToken: "TOKEN_abc", ExpiresAt: time.Now().Add(time.Hour)}))
	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 2, "the token and its lock")
	for _, k := range keys {
		assert.Equal(t, appID, hashTag(k), "%q", k)
	}
	require.NoError(t, lease.Unlock(ctx))

	// A brace in the prefix or the appid could split the two keys' slots.
	for _, p := range []string{"x{}", "a{b:", "a}b:"} {
		_, err := redistoken.New(c, redistoken.WithKeyPrefix(p))
		require.Error(t, err, "%q", p)
	}
	for _, id := range []string{"}", "wx{x}", "wx{"} {
		_, _, err := s.TryLock(ctx, id, time.Minute)
		require.Error(t, err, "%q", id)
		_, err = s.Load(ctx, id)
		require.Error(t, err, "%q", id)
	}
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
		clk.Advance(3 * time.Hour)
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
	lease, ok, err := other.TryLock(ctx, appID, time.Minute)
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
	require.NoError(t, lease.Save(ctx, &wxauth.Token{AccessToken: "SHARED_TOKEN_abc", ExpiresAt: time.Now().Add(2 * time.Hour)}))
	require.NoError(t, lease.Unlock(ctx))
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
