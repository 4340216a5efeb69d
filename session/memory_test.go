package session

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestMemory(t *testing.T, opts ...MemoryOption) *MemoryStore {
	t.Helper()
	s, err := NewMemoryStore(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The Store contract is checked by TestMemoryStoreConformance
// (storetest.Run); the tests here check what is MemoryStore's own.

// TestMemoryStoreLen checks what Len counts, and the text of Put's
// refusals: CheckPut's, with the package prefix.
func TestMemoryStoreLen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestMemory(t)
	for _, err := range []error{
		s.Put(ctx, "", &Record{OpenID: "o"}, time.Hour),
		s.Put(ctx, string(make([]byte, MaxKeyLen+1)), &Record{OpenID: "o"}, time.Hour),
		s.Put(ctx, "k", nil, time.Hour),
		s.Put(ctx, "k", &Record{OpenID: "o"}, 0),
		s.Put(ctx, "k", &Record{OpenID: "o"}, -time.Second),
	} {
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "session: put: "), err.Error())
	}
	assert.Equal(t, 0, s.Len(), "refused Puts store nothing")

	require.NoError(t, s.Put(ctx, "k", &Record{OpenID: "o1"}, time.Hour))
	require.NoError(t, s.Put(ctx, "k", &Record{OpenID: "o2"}, time.Hour))
	assert.Equal(t, 1, s.Len(), "Put replaces, it does not add")
	require.NoError(t, s.Delete(ctx, "k"))
	assert.Equal(t, 0, s.Len(), "Delete frees the entry")
}

func TestMemoryStoreExpiresOnRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := NewFakeClock()
	s := newTestMemory(t, WithMemoryClock(clk.Now))
	require.NoError(t, s.Put(ctx, "k", &Record{OpenID: "o"}, time.Minute))

	clk.Advance(time.Minute - time.Nanosecond)
	_, err := s.Get(ctx, "k")
	require.NoError(t, err, "still valid just before its TTL")

	clk.Advance(time.Nanosecond)
	_, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, 0, s.Len(), "an expired record is removed when read")
}

func TestMemoryStoreSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := NewFakeClock()
	s := newTestMemory(t, WithMemoryClock(clk.Now), WithMaxEntries(5000))
	for i := range 100 {
		ttl := time.Minute
		if i%2 == 0 {
			ttl = time.Hour
		}
		require.NoError(t, s.Put(ctx, fmt.Sprint("k", i), &Record{OpenID: fmt.Sprint("o", i)}, ttl))
	}
	assert.Len(t, s.m.shards, memoryShards, "a large store is sharded")
	clk.Advance(2 * time.Minute)
	s.m.sweep()
	assert.Equal(t, 50, s.Len(), "the sweep removes exactly the expired records")
	_, err := s.Get(ctx, "k0")
	assert.NoError(t, err)
}

func TestMemoryStoreBackgroundSweepAndClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := NewFakeClock()
	s := newTestMemory(t, WithMemoryClock(clk.Now), WithSweepInterval(time.Millisecond))
	require.NoError(t, s.Put(ctx, "k", &Record{OpenID: "o"}, time.Minute))
	clk.Advance(time.Hour)
	require.Eventually(t, func() bool { return s.Len() == 0 }, 10*time.Second, time.Millisecond,
		"the background sweep removes an expired record nobody reads")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	select {
	case <-s.m.done:
	default:
		t.Fatal("Close returned before the sweep ended")
	}
	require.NoError(t, s.Put(ctx, "k", &Record{OpenID: "o"}, time.Minute), "the store stays usable after Close")
	_, err := s.Get(ctx, "k")
	assert.NoError(t, err)
}

func TestMemoryStoreDroppedWithoutCloseStopsSweep(t *testing.T) {
	t.Parallel()
	done := func() chan struct{} { // the store is unreachable once this returns
		s, err := NewMemoryStore(WithSweepInterval(time.Hour))
		require.NoError(t, err)
		return s.m.done
	}()
	require.Eventually(t, func() bool {
		runtime.GC()
		select {
		case <-done:
			return true
		default:
			return false
		}
	}, 10*time.Second, 10*time.Millisecond, "a store that is garbage collected stops its sweep")
}

func TestMemoryStoreMaxEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := NewFakeClock()
	s := newTestMemory(t, WithMemoryClock(clk.Now), WithMaxEntries(3))
	put := func(k string, ttl time.Duration) {
		t.Helper()
		require.NoError(t, s.Put(ctx, k, &Record{OpenID: k}, ttl))
	}
	put("soon", time.Minute)
	put("late1", time.Hour)
	put("late2", time.Hour)
	put("late2", 2*time.Hour) // replacing a key evicts nothing
	assert.Equal(t, 3, s.Len())

	put("new", time.Hour)
	assert.Equal(t, 3, s.Len(), "the bound holds")
	_, err := s.Get(ctx, "soon")
	assert.ErrorIs(t, err, ErrNotFound, "the record closest to expiry goes first")

	clk.Advance(90 * time.Minute) // late1 and new expire; late2 lives
	put("newer", time.Hour)
	assert.Equal(t, 3, s.Len())
	_, err = s.Get(ctx, "late2")
	assert.NoError(t, err, "an expired record is evicted before a live one")

	big := newTestMemory(t, WithMaxEntries(2000))
	for i := range 10_000 {
		require.NoError(t, big.Put(ctx, fmt.Sprint(i), &Record{OpenID: "o"}, time.Hour))
	}
	assert.LessOrEqual(t, big.Len(), 2000+memoryShards-1, "a sharded store stays within its bound")
}

func TestMemoryOptionsRefuse(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]MemoryOption{
		"max entries 0":  WithMaxEntries(0),
		"sweep 0":        WithSweepInterval(0),
		"negative sweep": WithSweepInterval(-time.Second),
		"nil clock":      WithMemoryClock(nil),
	} {
		s, err := NewMemoryStore(opt)
		assert.Error(t, err, name)
		assert.Nil(t, s, name)
	}
	s, err := NewMemoryStore(nil)
	require.NoError(t, err, "a nil option is skipped")
	require.NoError(t, s.Close())
}

// TestMemoryStoreConcurrent races Put, Get and Delete against eviction (a
// bound of 64), expiry on read (TTLs of 1 to 3 ms) and a sweep every
// millisecond, which storetest's concurrent check does not reach.
func TestMemoryStoreConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestMemory(t, WithMaxEntries(64), WithSweepInterval(time.Millisecond))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprint(g, "-", i%50)
				ttl := time.Duration(1+i%3) * time.Millisecond
				if err := s.Put(ctx, k, &Record{OpenID: k}, ttl); err != nil {
					t.Error(err)
					return
				}
				if rec, err := s.Get(ctx, k); err == nil && rec.OpenID != k {
					t.Errorf("got %q under %q", rec.OpenID, k)
				}
				if i%7 == 0 {
					_ = s.Delete(ctx, k)
				}
				// Records of a subject shared by all, beyond its bound,
				// deleted now and then as a whole.
				if err := s.Put(ctx, fmt.Sprint("s-", g, "-", i%30), &Record{Subject: "shared", OpenID: k}, time.Hour); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					_ = s.DeleteSubject(ctx, "shared")
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, s.Len(), 64)
	require.NoError(t, s.Close())
	checkIndex(t, s)
}

// checkIndex checks that the owner index names each record of s once, and
// nothing else.
func checkIndex(t *testing.T, s *MemoryStore) {
	t.Helper()
	type ref struct {
		key string
		seq uint64
	}
	records := map[ref]string{} // to its owner
	for i := range s.m.shards {
		for k, e := range s.m.shards[i].entries {
			records[ref{k, e.seq}] = e.rec.Owner()
		}
	}
	indexed := 0
	for i := range s.m.owners {
		for owner, list := range s.m.owners[i].owners {
			assert.NotEmpty(t, list, "an owner with no records is dropped from the index")
			assert.LessOrEqual(t, len(list), s.m.maxPerOwner, "an owner holds more than the bound")
			for _, k := range list {
				got, ok := records[ref{k.key, k.seq}]
				if assert.True(t, ok, "the index names a record that is gone") {
					assert.Equal(t, owner, got, "the index files a record under another owner")
				}
				indexed++
			}
		}
	}
	assert.Equal(t, len(records), indexed, "every record is indexed once")
}

func TestMemoryStorePerSubjectBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := NewFakeClock()
	s := newTestMemory(t, WithMemoryClock(clk.Now), WithMaxPerSubject(3))
	put := func(k string, rec Record, ttl time.Duration) {
		t.Helper()
		require.NoError(t, s.Put(ctx, k, &rec, ttl))
		clk.Advance(time.Second)
	}
	present := func(k string) bool {
		_, err := s.Get(ctx, k)
		return err == nil
	}
	put("other", Record{Subject: "u2", OpenID: "o1"}, time.Hour) // same openid, another subject
	put("unbound", Record{OpenID: "u1"}, time.Hour)              // the openid "u1" is the owner "u1" too
	for i := range 4 {
		put(fmt.Sprint("u1-", i), Record{Subject: "u1", OpenID: "o1"}, time.Hour)
	}
	assert.False(t, present("unbound"), "the oldest session of the owner goes first")
	assert.False(t, present("u1-0"))
	for _, k := range []string{"u1-1", "u1-2", "u1-3", "other"} {
		assert.True(t, present(k), k)
	}

	put("u1-short", Record{Subject: "u1", OpenID: "o1"}, time.Minute)
	assert.True(t, present("u1-short"), "the record being put is never the one evicted, even closest to expiry")
	assert.False(t, present("u1-1"))
	put("u1-4", Record{Subject: "u1", OpenID: "o1"}, time.Hour)
	assert.False(t, present("u1-short"), "the record closest to expiry goes before older ones")
	assert.True(t, present("u1-2"))

	require.NoError(t, s.DeleteSubject(ctx, "u1"))
	for _, k := range []string{"u1-2", "u1-3", "u1-4"} {
		assert.False(t, present(k), k)
	}
	assert.True(t, present("other"))
	checkIndex(t, s)

	for name, n := range map[string]int{"zero": 0, "negative": -1, "over the limit": MaxPerSubjectLimit + 1} {
		_, err := NewMemoryStore(WithMaxPerSubject(n))
		assert.Error(t, err, name)
	}
}

// TestMemoryStoreOneOpenIDCannotEvictOthers is issue 8's measurement, scaled
// down: one openid that logs in again and again (a script, a broken client)
// used to push other users out of a bounded store. Bounded per owner, it
// only ever replaces its own sessions.
func TestMemoryStoreOneOpenIDCannotEvictOthers(t *testing.T) {
	t.Parallel()
	const users, floods = 1000, 20_000
	evicted := func(opts ...MemoryOption) int {
		ctx := context.Background()
		s := newTestMemory(t, append([]MemoryOption{WithMaxEntries(2000)}, opts...)...)
		for i := range users {
			require.NoError(t, s.Put(ctx, fmt.Sprint("user-", i), &Record{OpenID: fmt.Sprint("o-", i)}, time.Hour))
		}
		for i := range floods {
			require.NoError(t, s.Put(ctx, fmt.Sprint("flood-", i), &Record{OpenID: "o-flood"}, time.Hour))
		}
		n := 0
		for i := range users {
			if _, err := s.Get(ctx, fmt.Sprint("user-", i)); err != nil {
				n++
			}
		}
		checkIndex(t, s)
		t.Logf("options %d: %d of %d users evicted by %d logins of one openid", len(opts), n, users, floods)
		return n
	}
	assert.Zero(t, evicted(), "users evicted by one openid's %d logins, at the default bound of %d per owner", floods, DefaultMaxPerSubject)
	assert.Positive(t, evicted(WithMaxPerSubject(MaxPerSubjectLimit)),
		"the test shows nothing: one owner with a bound of %d evicts no other user either", MaxPerSubjectLimit)
}
