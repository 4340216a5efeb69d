// Package redisstore is a [session.Store] on Redis, for applications that
// run on more than one machine. It takes any [redis.UniversalClient] from
// github.com/redis/go-redis/v9, so a single node, Sentinel and Cluster work
// alike. It needs Redis 6.2 or later (SET ... GET, GETDEL).
//
// # Keys
//
// A record is JSON ([session.MarshalRecord]) under the key prefix (default
// [DefaultKeyPrefix], [WithKeyPrefix]) followed by the hex SHA-256 of the token, and expires
// with the SET itself (SET key value PX ttl GET), so Redis drops it without
// help. Each owner ([session.Record.Owner]: the user's subject, or the
// openid of a session without one) has an index, a sorted set under
// prefix + "subject:{" + owner + "}" whose members are the record keys
// scored by their expiry. Every Put prunes the members that have expired and
// sets the index to expire with its longest-lived member, so once every
// session of a user has expired, no key of theirs is left. The index makes
// [Store.DeleteSubject] ([session.Manager.RevokeAll]) a read of one key, and
// bounds the sessions of one owner ([WithMaxPerSubject]). A Put beyond the
// bound moves the oldest members to the owner's evicted set, prefix +
// "evicted:{" + owner + "}", in the same script, then deletes their
// records: a record whose DEL failed stays within RevokeAll's reach there
// until it expires, and the eviction costs one round trip. The openids of a
// subject's sessions are kept too, in a sorted set under prefix + "links:{" +
// subject + "}" (the slot of the subject's index) scored by the expiry of
// the last session Put with each, so that RevokeAll of the subject also
// ends the sessions those openids held before they were bound to it.
// Records written by versions of this package before the index have none:
// RevokeAll misses them until they expire.
//
// A renewal ([session.WithIdleTimeout], [Store.Renew]) moves the record's
// member in its owner's index to the new expiry (ZADD XX GT, so a member a
// revocation removed stays out), and its openid's in the subject's links,
// then rewrites the record with SET ... XX,
// which writes only while the record is there: the check and the write are
// one command, so a renewal never brings back a revoked token.
//
// Every Lua script touches the keys of one slot (an owner's index, and a
// subject's openid links, which the braces put in the slot of the owner's
// name), and no command spans two slots, so the store works on Redis
// Cluster (its tests run on a node in cluster mode). A record key and its index may live on different nodes: Put
// sends the record's SET and then its index script in one pipeline, and
// deletes the record again when either fails, so a record is never
// unreachable from its index for long, and RevokeAll removes the records it
// found before it removes them from the index, so a RevokeAll interrupted by
// an outage can be repeated.
//
// # Failures
//
// Any failure to talk to Redis wraps [session.ErrStoreUnavailable], never
// [session.ErrNotFound]: the middleware answers 503 and clients keep their
// tokens through an outage.
//
// [session.Manager] bounds every store call (one second by default,
// [session.WithStoreTimeout]) and answers 503 when Redis does not answer in
// time, whatever the client's options. Still, give the client timeouts that
// fit a request path: go-redis's defaults (5 s to dial, 3 s to read and
// write, three retries, and context deadlines ignored) keep a call to a
// frozen Redis running in the background for 10 s or more, holding a pooled
// connection, so that new requests queue for the pool. With the Manager's
// default timeout:
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:                  addr,
//		DialTimeout:           500 * time.Millisecond,
//		ReadTimeout:           500 * time.Millisecond,
//		WriteTimeout:          500 * time.Millisecond,
//		PoolTimeout:           500 * time.Millisecond, // waiting for a free connection
//		MaxRetries:            1,
//		ContextTimeoutEnabled: true, // the Manager's deadline reaches the socket
//	})
//
// With ContextTimeoutEnabled the store honours its context
// ([Store.HonorsContext]), and the Manager calls it on the request's own
// goroutine instead of handing each call to a goroutine it can stop
// waiting for: about a tenth more logins a second under load.
//
// # Persistence and memory
//
// Sessions live in Redis's memory. A Redis without persistence loses every
// session when it restarts: every user is logged out at once (a
// mini-program logs in again silently, but every session_key is gone and
// every login code is spent at once). Keep them with append-only files
// (appendonly yes, appendfsync everysec: at most a second of logins lost on
// a crash), or a replica that takes over (Sentinel, Cluster, a managed
// Redis with failover).
//
// Set the maxmemory policy to noeviction, or to one of the volatile-*
// policies when the Redis holds other data: every key of this store has a
// TTL. Never allkeys-lru or allkeys-random on a Redis that holds sessions:
// a full Redis then silently evicts sessions, and their users are answered
// 401 as if they had logged out (measured: 1,959 of the first 2,000 tokens
// gone). With noeviction a full Redis refuses the SET of a login, which
// fails with [session.ErrStoreUnavailable] (503): an outage that is seen and
// logged, not a silent logout. Size maxmemory for the sessions you keep:
// about 750 bytes of used_memory per session, record and index (measured on
// Redis 7.0 with WeChat-sized fields, one session per user).
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxmp/miniauth/session"
)

// DefaultKeyPrefix is the default prefix of the keys the store writes.
const DefaultKeyPrefix = "miniauth:session:"

// DefaultPrefix is [DefaultKeyPrefix].
//
// Deprecated: use DefaultKeyPrefix, the name package redistoken uses too.
const DefaultPrefix = DefaultKeyPrefix

// maxPrefixLen caps the key prefix.
const maxPrefixLen = 256

// An Option configures the store [New] returns. Options validate their
// arguments: New returns the first error.
type Option func(*Store) error

// WithPrefix is [WithKeyPrefix].
//
// Deprecated: use WithKeyPrefix, the name package redistoken uses for the
// same option.
func WithPrefix(prefix string) Option { return WithKeyPrefix(prefix) }

// WithKeyPrefix sets the prefix of the store's keys (default
// [DefaultKeyPrefix]), to keep the sessions of several applications (or
// environments) on one Redis apart. It must be 1 to 256 bytes.
func WithKeyPrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix == "" || len(prefix) > maxPrefixLen {
			return fmt.Errorf("redisstore: prefix must be 1 to %d bytes", maxPrefixLen)
		}
		s.prefix = prefix
		return nil
	}
}

// WithMaxPerSubject bounds the sessions one owner ([session.Record.Owner])
// holds (default [session.DefaultMaxPerSubject]), from 1 to
// [session.MaxPerSubjectLimit]. A Put beyond it removes the owner's records
// closest to expiry (the oldest, for records of one TTL), never the one
// being put.
func WithMaxPerSubject(n int) Option {
	return func(s *Store) error {
		if n < 1 || n > session.MaxPerSubjectLimit {
			return fmt.Errorf("redisstore: max sessions per subject must be 1 to %d", session.MaxPerSubjectLimit)
		}
		s.maxPerOwner = n
		return nil
	}
}

// Store is a [session.SubjectStore] on Redis. It is safe for concurrent
// use. Create it with [New].
type Store struct {
	client      redis.UniversalClient
	prefix      string
	maxPerOwner int
}

var (
	_ session.SubjectStore = (*Store)(nil)
	_ session.TakeStore    = (*Store)(nil)
	_ session.ContextStore = (*Store)(nil)
)

// HonorsContext reports whether the store's calls return by their
// context's deadline: when its client is a *redis.Client (single node,
// Sentinel), *redis.ClusterClient or *redis.Ring whose options set
// ContextTimeoutEnabled. go-redis ignores context deadlines otherwise, and
// the [session.Manager] then runs each call on a goroutine it can stop
// waiting for (see [session.ContextStore]).
func (s *Store) HonorsContext() bool {
	switch c := s.client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// New returns a store that keeps records through client. The client is the
// caller's: the store never closes it.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: client must not be nil")
	}
	s := &Store{client: client, prefix: DefaultKeyPrefix, maxPerOwner: session.DefaultMaxPerSubject}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// unavailable wraps a Redis failure. The key is not in the text: it would
// let whoever reads logs find the record.
func unavailable(op string, err error) error {
	return fmt.Errorf("redisstore: %s: %w: %w", op, session.ErrStoreUnavailable, err)
}

// indexKey is the key of the index of an owner's records.
func (s *Store) indexKey(owner string) string {
	return s.prefix + "subject:{" + owner + "}"
}

// evictedKey is the key of the records of an owner that a Put evicted
// (see [indexScript]), in the slot of the owner's index.
func (s *Store) evictedKey(owner string) string {
	return s.prefix + "evicted:{" + owner + "}"
}

// linksKey is the key of the openids a subject's records were Put with, in
// the slot of the subject's index.
func (s *Store) linksKey(subject string) string {
	return s.prefix + "links:{" + subject + "}"
}

// Get returns the record under key, or [session.ErrNotFound] when Redis has
// none (it expired, or was never there). A value that is not a record is an
// error of its own, neither of those.
func (s *Store) Get(ctx context.Context, key string) (*session.Record, error) {
	b, err := s.client.Get(ctx, s.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, session.ErrNotFound
	case err != nil:
		return nil, unavailable("get", err)
	}
	rec, err := session.UnmarshalRecord(b)
	if err != nil {
		return nil, fmt.Errorf("redisstore: get: %w", err)
	}
	return rec, nil
}

// indexScript adds a record key to its owner's index, scored by its expiry
// in microseconds of the Redis clock (the clock of the record's PX), prunes
// the members that have expired, makes the index expire with its last
// member, and returns the members beyond the bound, closest to expiry first
// and never the one just added.
//
// The members it returns leave the index for the owner's evicted set, with
// their scores, in the same script: the caller deletes their records next,
// and whatever becomes of those DELs, RevokeAll still finds a record that
// outlived its eviction there, until the record expires. The evicted set is
// pruned and made to expire like the index, and counts toward no bound: an
// eviction costs one round trip of DELs, and needs no second one to take
// the keys out of the index once they are deleted.
//
// For a record with a subject, it also adds the record's openid to the
// subject's links, scored by the same expiry (the greater score wins), and
// makes the links expire with their last member.
//
// KEYS[1]: the index; KEYS[2]: the evicted set; KEYS[3], for a record with a
// subject: the subject's links (all three in the owner's slot); ARGV[1]: the
// record key; ARGV[2]: its TTL in microseconds; ARGV[3]: the bound; ARGV[4]:
// the record's openid.
var indexScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if KEYS[3] then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZADD', KEYS[3], 'GT', now + tonumber(ARGV[2]), ARGV[4])
  local lastLink = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[3], math.ceil(tonumber(lastLink[2]) / 1000))
end
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
local out = {}
if over > 0 then
  local ms = redis.call('ZRANGE', KEYS[1], 0, over, 'WITHSCORES')
  for i = 1, #ms, 2 do
    if ms[i] ~= ARGV[1] and #out < over then
      out[#out + 1] = ms[i]
      redis.call('ZREM', KEYS[1], ms[i])
      redis.call('ZADD', KEYS[2], 'GT', ms[i + 1], ms[i])
    end
  end
  local lastEvicted = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[2], math.ceil(tonumber(lastEvicted[2]) / 1000))
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2]) / 1000))
return out
`)

// Put stores rec under key for ttl and indexes it under its owner; when the
// owner then holds more records than the bound, it removes the oldest.
//
// The SET and the index script go to Redis in one pipeline: one round trip
// for a login, as a hand-written SET would take (on a Cluster, the two keys
// are in different slots and go-redis sends them to their nodes at once).
func (s *Store) Put(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	if err := session.CheckPut(key, rec, ttl); err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	b, err := session.MarshalRecord(rec)
	if err != nil {
		return fmt.Errorf("redisstore: put: %w", err)
	}
	owner := rec.Owner()
	keys := []string{s.indexKey(owner), s.evictedKey(owner)}
	if rec.Subject != "" && rec.OpenID != owner {
		keys = append(keys, s.linksKey(owner))
	}
	args := []any{key, ttl.Microseconds(), s.maxPerOwner, rec.OpenID}
	var set *redis.StatusCmd
	var index *redis.Cmd
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SetArgs(ctx, s.prefix+key, b, redis.SetArgs{TTL: ttl, Get: true})
		index = indexScript.EvalSha(ctx, p, keys, args...)
		return nil
	})
	if err := index.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// The script is not cached yet (a new or restarted Redis): send it.
		index = indexScript.Eval(ctx, s.client, keys, args...)
	}
	old, err := set.Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		// The record may or may not be there: take it back, and its index
		// member with it. The Manager gives its token to nobody.
		s.takeBack(ctx, owner, key)
		return unavailable("put", err)
	}
	over, err := index.StringSlice()
	if err != nil {
		// A record its index does not name would outlive a RevokeAll: take
		// it back.
		s.takeBack(ctx, owner, key)
		return unavailable("put", err)
	}
	if old != nil {
		// The key held another record (the Manager never reuses a key):
		// take it out of its owner's index, lest a RevokeAll of that owner
		// delete this one.
		if prev, err := session.UnmarshalRecord(old); err == nil && prev.Owner() != owner {
			if err := s.client.ZRem(ctx, s.indexKey(prev.Owner()), key).Err(); err != nil {
				return unavailable("put", err)
			}
		}
	}
	if len(over) > 0 {
		// The script moved them to the evicted set, which keeps them
		// within RevokeAll's reach until they expire: one round trip of
		// DELs is all an eviction costs.
		cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range over {
				p.Del(ctx, s.prefix+k)
			}
			return nil
		})
		for _, c := range cmds {
			if err == nil {
				err = c.Err()
			}
		}
		if err != nil {
			return unavailable("put", err)
		}
	}
	return nil
}

// takeBack removes, as far as Redis answers, what a failed Put may have
// written: the record and its member in the owner's index, in one round
// trip. It runs without ctx's cancellation: a Put that failed because ctx
// ended must not leave its record behind (the Manager's store timeout
// answers the request meanwhile).
func (s *Store) takeBack(ctx context.Context, owner, key string) {
	ctx = context.WithoutCancel(ctx)
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.prefix+key)
		p.ZRem(ctx, s.indexKey(owner), key)
		return nil
	})
}

// deleteIndexed deletes the records under keys, then takes the keys out of
// the sorted set under set (an owner's index or evicted set); a record
// whose DEL failed stays there.
func (s *Store) deleteIndexed(ctx context.Context, set string, keys []string) error {
	cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, s.prefix+k)
		}
		return nil
	})
	done := make([]any, 0, len(keys))
	for i, c := range cmds {
		if c.Err() == nil {
			done = append(done, keys[i])
		}
	}
	if len(done) > 0 {
		if zerr := s.client.ZRem(ctx, set, done...).Err(); zerr != nil && err == nil {
			err = zerr
		}
	}
	return err
}

// Delete removes the record under key and takes it out of its owner's
// index. A key that is not there is no error.
func (s *Store) Delete(ctx context.Context, key string) error {
	b, err := s.client.GetDel(ctx, s.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil
	case err != nil:
		return unavailable("delete", err)
	}
	rec, err := session.UnmarshalRecord(b)
	if err != nil {
		return nil // gone; a value that is no record was in no index
	}
	if err := s.client.ZRem(ctx, s.indexKey(rec.Owner()), key).Err(); err != nil {
		return unavailable("delete", err)
	}
	return nil
}

// Take returns the record under key and removes it (see
// [session.TakeStore]): one GETDEL, atomic on the record's one key, then the
// key leaves its owner's index. Of concurrent Takes of one key, one gets the
// record and the others [session.ErrNotFound].
func (s *Store) Take(ctx context.Context, key string) (*session.Record, error) {
	b, err := s.client.GetDel(ctx, s.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, session.ErrNotFound
	case err != nil:
		return nil, unavailable("take", err)
	}
	rec, err := session.UnmarshalRecord(b)
	if err != nil {
		return nil, fmt.Errorf("redisstore: take: %w", err)
	}
	// The record is gone: a failed ZREM leaves a stale member, which only
	// costs a RevokeAll a DEL of nothing.
	_ = s.client.ZRem(ctx, s.indexKey(rec.Owner()), key).Err()
	return rec, nil
}

// DeleteSubject removes every record whose [session.Record.Owner] is owner
// (the records its index names, then the index's members), and the records
// without a subject of the openids that records of owner were Put with: the sessions those openids held before they were bound to it
// (see [session.SubjectStore]).
func (s *Store) DeleteSubject(ctx context.Context, owner string) error {
	linked, err := s.client.ZRange(ctx, s.linksKey(owner), 0, -1).Result()
	if err != nil {
		return unavailable("delete subject", err)
	}
	for _, o := range append([]string{owner}, linked...) {
		if err := s.deleteOwner(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// deleteOwner removes every record whose [session.Record.Owner] is owner:
// those of its index and those of its evicted set.
func (s *Store) deleteOwner(ctx context.Context, owner string) error {
	sets := []string{s.indexKey(owner), s.evictedKey(owner)}
	var ranges []*redis.StringSliceCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, set := range sets {
			ranges = append(ranges, p.ZRange(ctx, set, 0, -1))
		}
		return nil
	})
	if err != nil {
		return unavailable("delete subject", err)
	}
	for i, set := range sets {
		keys := ranges[i].Val()
		if len(keys) == 0 {
			continue
		}
		if err := s.deleteIndexed(ctx, set, keys); err != nil {
			return unavailable("delete subject", err)
		}
	}
	return nil
}

var _ session.RenewStore = (*Store)(nil)

// renewIndexScript moves a record key's score in its owner's index to the
// record's new expiry, in microseconds of the Redis clock, if the key is a
// member and the score is later (ZADD XX GT: a key that a Delete or
// DeleteSubject took out stays out), and makes the index expire with its
// last member. It does the same in the owner's evicted set, where a record
// whose eviction's DEL failed may still be renewed: it must stay within
// RevokeAll's reach as long as it lives. For a record with a subject, it
// raises the score of the record's openid in the subject's links likewise
// (a link lives as long as the last record Put or renewed with it), and
// makes the links expire with their last member.
//
// KEYS[1]: the index; KEYS[2]: the evicted set; KEYS[3], for a record with
// a subject: the subject's links (all in the owner's slot); ARGV[1]: the
// record key; ARGV[2]: its new TTL in microseconds; ARGV[3]: the record's
// openid.
var renewIndexScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], 'XX', 'GT', now + tonumber(ARGV[2]), ARGV[1])
  local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', KEYS[i], math.ceil(tonumber(last[2]) / 1000))
  end
end
if KEYS[3] then
  redis.call('ZADD', KEYS[3], 'GT', now + tonumber(ARGV[2]), ARGV[3])
  local lastLink = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[3], math.ceil(tonumber(lastLink[2]) / 1000))
end
return 0
`)

// Renew replaces the record under key with rec for ttl only if a record is
// there (see [session.RenewStore]); otherwise it returns
// [session.ErrNotFound] and writes no record. It first moves the record's
// member in its owner's index to the new expiry, so that the index never
// lets go of a record that lives on, then writes the record with SET ... XX:
// the check that the record is there and the write are one command, so a
// record that a Delete or DeleteSubject removed stays removed. Each step
// touches the keys of one slot, as Redis Cluster needs. rec must have the stored
// record's owner ([session.Record.Owner]), as the Manager's renewals do.
func (s *Store) Renew(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	if err := session.CheckPut(key, rec, ttl); err != nil {
		return fmt.Errorf("redisstore: renew: %w", err)
	}
	b, err := session.MarshalRecord(rec)
	if err != nil {
		return fmt.Errorf("redisstore: renew: %w", err)
	}
	owner := rec.Owner()
	keys := []string{s.indexKey(owner), s.evictedKey(owner)}
	if rec.Subject != "" && rec.OpenID != owner {
		keys = append(keys, s.linksKey(owner))
	}
	if err := renewIndexScript.Run(ctx, s.client, keys, key, ttl.Microseconds(), rec.OpenID).Err(); err != nil {
		return unavailable("renew", err)
	}
	err = s.client.SetArgs(ctx, s.prefix+key, b, redis.SetArgs{Mode: "XX", TTL: ttl}).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return session.ErrNotFound
	case err != nil:
		return unavailable("renew", err)
	}
	return nil
}
