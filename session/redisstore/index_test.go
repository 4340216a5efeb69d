package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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

func ownedBy(subject, openID string) *session.Record {
	r := testRecord()
	r.Subject, r.OpenID = subject, openID
	return r
}

// TestIndexExpiresWithItsLastRecord: the index of an owner lives as long as
// its longest-lived record, and a Put prunes the members that expired.
func TestIndexExpiresWithItsLastRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, prefix := newStore(t)
	index := prefix + "subject:{u1}"
	short, long := randomKey(), randomKey()
	require.NoError(t, s.Put(ctx, short, ownedBy("u1", "o1"), 200*time.Millisecond))
	pttl, err := c.PTTL(ctx, index).Result()
	require.NoError(t, err)
	assert.Positive(t, pttl)
	assert.Less(t, pttl, time.Second, "an index expires with its only record (200 ms, and the few ms between its SET and the index)")

	require.NoError(t, s.Put(ctx, long, ownedBy("u1", "o2"), time.Hour))
	pttl, err = c.PTTL(ctx, index).Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, 59*time.Minute, "the index lives as long as its longest-lived record")

	require.Eventually(t, func() bool { return c.Exists(ctx, prefix+short).Val() == 0 }, 5*time.Second, 10*time.Millisecond)
	// The member's score is the record's expiry as the index script saw it,
	// a little after the SET's own (more so on a loaded machine): wait until
	// Redis's clock has passed it too.
	score, err := c.ZScore(ctx, index, short).Result()
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		now, err := c.Time(ctx).Result()
		return err == nil && float64(now.UnixMicro()) > score
	}, 5*time.Second, 10*time.Millisecond)
	again := randomKey()
	require.NoError(t, s.Put(ctx, again, ownedBy("u1", "o1"), time.Hour))
	members, err := c.ZRange(ctx, index, 0, -1).Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{long, again}, members, "a Put prunes the members that expired")

	require.NoError(t, s.Delete(ctx, long))
	require.NoError(t, s.Delete(ctx, again))
	assert.Zero(t, c.Exists(ctx, index).Val(), "deleting the last record of an owner removes its index")
}

// TestNothingLeftAfterExpiry: once every session has expired, no key of the
// store is left in Redis.
func TestNothingLeftAfterExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, prefix := newStore(t)
	for i, rec := range []*session.Record{ownedBy("u1", "o1"), ownedBy("u1", "o2"), ownedBy("", "o3"), ownedBy("u2", "o1")} {
		ttl := time.Second + time.Duration(i)*100*time.Millisecond
		require.NoError(t, s.Put(ctx, randomKey(), rec, ttl))
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.Len(t, keys, 4+3+2, "four records, three owners, the openid links of two subjects")
	for _, k := range keys {
		pttl, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Positive(t, pttl, "every key has a TTL: %s", k)
	}
	require.Eventually(t, func() bool {
		keys, err := c.Keys(ctx, prefix+"*").Result()
		return err == nil && len(keys) == 0
	}, 5*time.Second, 50*time.Millisecond, "keys left after every session expired")
}

// TestMaxPerSubject: beyond the bound the owner's oldest records go, never
// the one being put; other owners keep theirs.
func TestMaxPerSubject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix), redisstore.WithMaxPerSubject(3))
	require.NoError(t, err)
	other := randomKey()
	require.NoError(t, s.Put(ctx, other, ownedBy("u2", "o1"), time.Hour))
	keys := make([]string, 5)
	for i := range keys {
		keys[i] = randomKey()
		require.NoError(t, s.Put(ctx, keys[i], ownedBy("u1", fmt.Sprint("o", i)), time.Hour+time.Duration(i)*time.Second))
	}
	present := func(k string) bool { return c.Exists(ctx, prefix+k).Val() == 1 }
	assert.False(t, present(keys[0]))
	assert.False(t, present(keys[1]))
	assert.True(t, present(keys[2]) && present(keys[3]) && present(keys[4]))
	assert.True(t, present(other))
	assert.EqualValues(t, 3, c.ZCard(ctx, prefix+"subject:{u1}").Val())

	short := randomKey()
	require.NoError(t, s.Put(ctx, short, ownedBy("u1", "o9"), time.Minute))
	assert.True(t, present(short), "the record being put is never the one evicted")
	assert.False(t, present(keys[2]))

	for _, n := range []int{0, -1, session.MaxPerSubjectLimit + 1} {
		_, err := redisstore.New(c, redisstore.WithMaxPerSubject(n))
		assert.Error(t, err, n)
	}
}

// TestRevokeAllOnRedis runs Manager.RevokeAll on the Redis store.
func TestRevokeAllOnRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, prefix := newStore(t)
	m := session.NewManager(s)
	require.NoError(t, m.Err())
	issue := func(openID, subject string) string {
		token, err := m.Issue(ctx, &wxauth.Session{OpenID: openID, SessionKey: testKey}, session.ForSubject(subject))
		require.NoError(t, err)
		return token
	}
	phone, tablet := issue("o1", "u1"), issue("o2", "u1")
	unbound, bound := issue("o3", ""), issue("o3", "u2")

	require.NoError(t, m.RevokeAll(ctx, "u1"))
	require.NoError(t, m.RevokeAll(ctx, "o3"))
	for _, tok := range []string{phone, tablet, unbound} {
		_, err := m.Validate(ctx, tok)
		assert.ErrorIs(t, err, session.ErrInvalidToken)
	}
	_, err := m.Validate(ctx, bound)
	assert.NoError(t, err, "a session with a subject does not end by its openid")
	assert.Zero(t, c.Exists(ctx, prefix+"subject:{u1}", prefix+"subject:{o3}").Val(), "indexes of owners without sessions are gone")
}

// TestRedisGoesDownForSubjects: DeleteSubject on a stopped Redis is an
// outage, not success.
func TestRedisGoesDownForSubjects(t *testing.T) {
	t.Parallel()
	addr, stop := redistest.Server(t)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	s, err := redisstore.New(c)
	require.NoError(t, err)
	stop()
	assert.ErrorIs(t, s.DeleteSubject(context.Background(), "u1"), session.ErrStoreUnavailable)
}

// failDels is a go-redis hook that, while on, fails every DEL the client
// sends without sending it, as an outage between the index script and the
// DELs of an eviction would.
type failDels struct{ on atomic.Bool }

func (h *failDels) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failDels) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.on.Load() && len(cmds) > 0 && cmds[0].Name() == "del" {
			for _, c := range cmds {
				c.SetErr(errors.New("test: connection reset"))
			}
			return cmds[0].Err()
		}
		return next(ctx, cmds)
	}
}

func (h *failDels) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, c redis.Cmder) error {
		if h.on.Load() && c.Name() == "del" {
			c.SetErr(errors.New("test: connection reset"))
			return c.Err()
		}
		return next(ctx, c)
	}
}

// TestEvictedRecordsStayRevocable: a Put beyond the bound moves the oldest
// record from the owner's index to its evicted set before it deletes the
// record. When that DEL fails, the Put fails, the record lives on, and
// RevokeAll still ends it; the evicted set expires with its last member.
func TestEvictedRecordsStayRevocable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	hook := &failDels{}
	c.AddHook(hook)
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(prefix), redisstore.WithMaxPerSubject(2))
	require.NoError(t, err)
	present := func(k string) bool { return c.Exists(ctx, prefix+k).Val() == 1 }
	evicted := prefix + "evicted:{u1}"

	first, second, third, fourth := randomKey(), randomKey(), randomKey(), randomKey()
	require.NoError(t, s.Put(ctx, first, ownedBy("u1", "o1"), time.Hour))
	require.NoError(t, s.Put(ctx, second, ownedBy("u1", "o1"), time.Hour+time.Second))
	require.NoError(t, s.Put(ctx, third, ownedBy("u1", "o1"), time.Hour+2*time.Second))
	assert.False(t, present(first), "evicted")
	assert.Equal(t, []string{first}, c.ZRange(ctx, evicted, 0, -1).Val(), "an evicted key stays in the evicted set until its record would have expired")
	pttl := c.PTTL(ctx, evicted).Val()
	assert.True(t, pttl > 59*time.Minute && pttl <= time.Hour, "the evicted set expires with its last member: %s", pttl)

	hook.on.Store(true)
	err = s.Put(ctx, fourth, ownedBy("u1", "o1"), time.Hour+3*time.Second)
	hook.on.Store(false)
	require.ErrorIs(t, err, session.ErrStoreUnavailable, "an eviction whose DEL failed fails the Put")
	assert.True(t, present(second), "its DEL failed: the record lives on")
	assert.ElementsMatch(t, []string{first, second}, c.ZRange(ctx, evicted, 0, -1).Val())
	assert.EqualValues(t, 2, c.ZCard(ctx, prefix+"subject:{u1}").Val(), "the evicted set counts toward no bound")

	require.NoError(t, s.DeleteSubject(ctx, "u1"))
	for _, k := range []string{first, second, third, fourth} {
		assert.False(t, present(k), "RevokeAll ends a record whose eviction failed, and every other")
	}
	assert.Zero(t, c.Exists(ctx, evicted, prefix+"subject:{u1}").Val(), "nothing of the owner is left")
}

// TestPutOnARedisWithoutTheScript: Put sends its index script by EVALSHA in
// the SET's pipeline; on a Redis that has not cached the script (new,
// restarted, or SCRIPT FLUSH) it sends it again by EVAL, and the record is
// indexed all the same.
func TestPutOnARedisWithoutTheScript(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr, _ := redistest.Server(t) // a server of its own: the flush touches no other test
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	s, err := redisstore.New(c)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, c.ScriptFlush(ctx).Err())
		key := randomKey()
		require.NoError(t, s.Put(ctx, key, ownedBy("u1", "o1"), time.Hour), "put %d", i)
		assert.EqualValues(t, 1, c.Exists(ctx, redisstore.DefaultKeyPrefix+key).Val())
		assert.Contains(t, c.ZRange(ctx, redisstore.DefaultKeyPrefix+"subject:{u1}", 0, -1).Val(), key, "put %d is indexed", i)
	}
	require.NoError(t, s.DeleteSubject(ctx, "u1"))
	keys, err := c.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.Equal(t, []string{redisstore.DefaultKeyPrefix + "links:{u1}"}, keys, "no session left; the openid links stay until they expire")
	assert.Positive(t, c.PTTL(ctx, redisstore.DefaultKeyPrefix+"links:{u1}").Val())
}
