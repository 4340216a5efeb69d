package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	"github.com/wxmp/miniauth/session/storetest"
	"github.com/wxmp/miniauth/wxauth"
)

const testKey = "tiihtNczf5v6AKRyjwEUhQ=="

func randomKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newStore(t *testing.T) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	require.NoError(t, err)
	return s, c, prefix
}

func testRecord() *session.Record {
	now := time.Now().UTC().Truncate(time.Second)
	return &session.Record{OpenID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE", UnionID: "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
		SessionKey: testKey, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// TestStoreConformance runs the Store contract suite on Redis, each subtest
// under a key prefix of its own.
func TestStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) session.Store {
		s, _, _ := newStore(t)
		return s
	})
}

// TestStoreWritesJSONWithTTL checks what Redis holds after a Put: JSON under
// prefix+key, with the TTL set by the SET itself.
func TestStoreWritesJSONWithTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, prefix := newStore(t)
	key := randomKey()
	rec := testRecord()
	require.NoError(t, s.Put(ctx, key, rec, time.Hour))

	raw, err := c.Get(ctx, prefix+key).Bytes()
	require.NoError(t, err)
	var stored map[string]any
	require.NoError(t, json.Unmarshal(raw, &stored), "values are JSON")
	assert.Equal(t, rec.OpenID, stored["openid"])
	pttl, err := c.PTTL(ctx, prefix+key).Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, 59*time.Minute)
	assert.LessOrEqual(t, pttl, time.Hour)
}

// TestStoreRefuses checks the text of Put's refusals (storetest checks that
// it refuses), a corrupt value, and New's own arguments.
func TestStoreRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, prefix := newStore(t)

	for name, put := range map[string]func() error{
		"nil record": func() error { return s.Put(ctx, randomKey(), nil, time.Hour) },
		"zero ttl":   func() error { return s.Put(ctx, randomKey(), testRecord(), 0) },
		"empty key":  func() error { return s.Put(ctx, "", testRecord(), time.Hour) },
	} {
		err := put()
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "), err.Error())
	}

	key := randomKey()
	require.NoError(t, c.Set(ctx, prefix+key, "not a record "+testKey, time.Minute).Err())
	rec, err := s.Get(ctx, key)
	require.Error(t, err)
	assert.Nil(t, rec)
	assert.NotErrorIs(t, err, session.ErrNotFound, "a corrupt value is not a missing one")
	assert.NotErrorIs(t, err, session.ErrStoreUnavailable)
	assert.NotContains(t, err.Error(), testKey, "the error does not quote the value")

	_, err = redisstore.New(nil)
	assert.Error(t, err)
	for _, p := range []string{"", strings.Repeat("p", 257)} {
		_, err = redisstore.New(c, redisstore.WithKeyPrefix(p))
		assert.Error(t, err)
		_, err = redisstore.New(c, redisstore.WithPrefix(p))
		assert.Error(t, err, "WithPrefix is WithKeyPrefix")
	}
}

func TestStoreDefaultPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.Client(t)
	s, err := redisstore.New(c, nil)
	require.NoError(t, err)
	key := randomKey()
	t.Cleanup(func() { c.Del(context.Background(), redisstore.DefaultKeyPrefix+key) })
	require.NoError(t, s.Put(ctx, key, testRecord(), time.Minute))
	n, err := c.Exists(ctx, redisstore.DefaultKeyPrefix+key).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "keys go under miniauth:session:")
}

func TestManagerOnRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, prefix := newStore(t)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := session.NewManager(s, session.WithTTL(time.Hour), session.WithClock(clock))
	require.NoError(t, m.Err())

	token, err := m.Issue(ctx, &wxauth.Session{OpenID: "o1", UnionID: "u1", SessionKey: testKey})
	require.NoError(t, err)
	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 2, "the record and its owner's index")
	require.Contains(t, keys, prefix+"subject:{o1}")
	recKey := keys[0]
	if recKey == prefix+"subject:{o1}" {
		recKey = keys[1]
	}
	for _, k := range keys {
		assert.NotContains(t, k, token, "Redis never sees the token")
	}
	raw, err := c.Get(ctx, recKey).Result()
	require.NoError(t, err)
	assert.NotContains(t, raw, token)

	rec, err := m.Validate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, "o1", rec.OpenID)
	assert.Equal(t, testKey, rec.SessionKey, "the session key survives the trip through Redis")

	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, session.ErrExpired)

	require.NoError(t, m.Revoke(ctx, token))
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, session.ErrInvalidToken)
}

func TestConcurrentManagerOnRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, _ := newStore(t)
	m := session.NewManager(s)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				token, err := m.Issue(ctx, &wxauth.Session{OpenID: "o", SessionKey: testKey})
				if err == nil {
					_, err = m.Validate(ctx, token)
				}
				if err == nil {
					err = m.Revoke(ctx, token)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestRedisGoesDown stops a private redis-server mid-run: every call must
// then fail with ErrStoreUnavailable, never ErrNotFound or ErrInvalidToken,
// and the middleware must answer 503, not 401.
func TestRedisGoesDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr, stop := redistest.Server(t)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	s, err := redisstore.New(c)
	require.NoError(t, err)
	m := session.NewManager(s)
	token, err := m.Issue(ctx, &wxauth.Session{OpenID: "o1", SessionKey: testKey})
	require.NoError(t, err)
	_, err = m.Validate(ctx, token)
	require.NoError(t, err)

	stop()

	key := randomKey()
	_, err = s.Get(ctx, key)
	require.ErrorIs(t, err, session.ErrStoreUnavailable)
	require.NotErrorIs(t, err, session.ErrNotFound)
	require.ErrorIs(t, s.Put(ctx, key, testRecord(), time.Minute), session.ErrStoreUnavailable)
	require.ErrorIs(t, s.Delete(ctx, key), session.ErrStoreUnavailable)

	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, session.ErrStoreUnavailable)
	require.NotErrorIs(t, err, session.ErrInvalidToken)
	assert.NotContains(t, err.Error(), token)
	_, err = m.Issue(ctx, &wxauth.Session{OpenID: "o2", SessionKey: testKey})
	require.ErrorIs(t, err, session.ErrStoreUnavailable)

	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rr := httptest.NewRecorder()
	m.Middleware(http.NotFoundHandler()).ServeHTTP(rr, r)
	assert.Equal(t, http.StatusServiceUnavailable, rr.Code)
	assert.JSONEq(t, `{"error":"store_unavailable","message":"sessions are unavailable: try again later"}`, rr.Body.String())
}

// TestHonorsContext: the store honours its context when its go-redis
// client is one that says so (ContextTimeoutEnabled), and not for a client
// of a type it does not know.
func TestHonorsContext(t *testing.T) {
	t.Parallel()
	type wrapped struct{ redis.UniversalClient }
	tests := []struct {
		name   string
		client redis.UniversalClient
		want   bool
	}{
		{"client, default options", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), false},
		{"client, ContextTimeoutEnabled", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), true},
		{"failover client, ContextTimeoutEnabled", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"cluster, default options", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), false},
		{"cluster, ContextTimeoutEnabled", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"ring, ContextTimeoutEnabled", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"a wrapper of a client that honours it", wrapped{redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() { _ = tt.client.Close() })
			s, err := redisstore.New(tt.client)
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.HonorsContext())
		})
	}
}
