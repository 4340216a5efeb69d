// Package redistoken is a [wxauth.TokenStore] on Redis: the instances of a
// fleet share one access_token, and a short lock (SET NX PX) makes one of
// them refresh it while the others wait and read it.
//
//	store, err := redistoken.New(redisClient)
//	app, err := wxauth.New(appID, secret, wxauth.WithTokenStore(store))
//
// It uses the same Redis as the session store if you like; its keys are
// "miniauth:token:{<appid>}" (a Redis hash holding the access_token in
// plain text, its expiry and its issue time, expiring with the token: guard
// this Redis as you guard the app secret) and "miniauth:token:{<appid>}:lock" (the
// lock's random owner id). The braces make the two keys one hash slot of a
// Redis Cluster: a token is saved by a script that checks the lock in the
// same atomic step, so that a holder whose lock expired stores nothing. For
// the same reason neither the prefix nor an appid may contain a brace.
//
// A [wxauth.Component] (a third-party platform) keeps its
// component_verify_ticket, its component_access_token and its authorizers'
// tokens in the same store, under "component_verify_ticket:<appid>",
// "component:<appid>" and "component:<appid>:authorizer:<appid>" in place
// of an appid: the fleet shares them as it shares an access token.
package redistoken

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxmp/miniauth/wxauth"
)

// DefaultKeyPrefix starts every key the store writes.
const DefaultKeyPrefix = "miniauth:token:"

// Limits on what the store accepts and reads back.
const (
	maxAppIDLen  = 128
	maxPrefixLen = 256
	maxTokenLen  = 2048
)

// Store is a [wxauth.TokenStore] on Redis. Create it with [New]; it is safe
// for concurrent use, and any number of processes may share one.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	save   *redis.Script
	del    *redis.Script
	unlock *redis.Script
}

var _ wxauth.TokenStore = (*Store)(nil)

// An Option configures the store [New] returns.
type Option func(*Store) error

// WithKeyPrefix sets the prefix of the store's keys (default
// [DefaultKeyPrefix]): the place to separate environments that share one
// Redis. Every instance of a fleet must use the same prefix. It must not
// contain "{" or "}": the store puts the appid in braces (a Redis Cluster
// hash tag).
func WithKeyPrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix == "" || len(prefix) > maxPrefixLen || strings.ContainsAny(prefix, "{}") {
			return fmt.Errorf("redistoken: key prefix must be 1 to %d bytes without { or }", maxPrefixLen)
		}
		s.prefix = prefix
		return nil
	}
}

// New returns a store that keeps tokens in the Redis that rdb talks to
// (a *redis.Client, a cluster or a ring).
func New(rdb redis.UniversalClient, opts ...Option) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redistoken: redis client must not be nil")
	}
	s := &Store{
		rdb:    rdb,
		prefix: DefaultKeyPrefix,
		// Replace the token, only while the lock still holds this owner,
		// and let it expire with the token itself.
		save: redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 't', ARGV[1], 'e', ARGV[2], 'i', ARGV[3])
if ARGV[2] ~= '0' then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1`),
		// Delete the token only if it is still the one that was refused.
		del: redis.NewScript(`
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`),
		// Release the lock only if this holder still holds it.
		unlock: redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`),
	}
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

// key returns appID's token key; the lock's is key + ":lock". The appid is
// the keys' hash tag, so both are in one Redis Cluster slot.
func (s *Store) key(appID string) (string, error) {
	if appID == "" || len(appID) > maxAppIDLen || strings.ContainsAny(appID, "{}") {
		return "", fmt.Errorf("redistoken: appid must be 1 to %d bytes without { or }", maxAppIDLen)
	}
	return s.prefix + "{" + appID + "}", nil
}

// Load returns appID's token, or nil when there is none (Redis expired it
// with the token) or what is stored cannot be decoded (a later Save
// overwrites it).
func (s *Store) Load(ctx context.Context, appID string) (*wxauth.Token, error) {
	k, err := s.key(appID)
	if err != nil {
		return nil, err
	}
	vals, err := s.rdb.HMGet(ctx, k, "t", "e", "i").Result()
	if err != nil {
		return nil, fmt.Errorf("redistoken: load: %w", err)
	}
	return decode(vals), nil
}

// decode turns the fields t, e, i (token, expiry and issue time in Unix
// milliseconds, expiry 0 for never) into a token, or nil.
func decode(vals []any) *wxauth.Token {
	if len(vals) != 3 {
		return nil
	}
	tok, ok1 := vals[0].(string)
	exp, ok2 := vals[1].(string)
	iss, ok3 := vals[2].(string)
	if !ok1 || !ok2 || !ok3 || tok == "" || len(tok) > maxTokenLen {
		return nil
	}
	e, err1 := strconv.ParseInt(exp, 10, 64)
	i, err2 := strconv.ParseInt(iss, 10, 64)
	if err1 != nil || err2 != nil || e < 0 || i < 0 {
		return nil
	}
	// Redis expires the key with the token; the caller judges freshness
	// with its own clock.
	t := &wxauth.Token{AccessToken: tok}
	if e != 0 {
		t.ExpiresAt = time.UnixMilli(e)
	}
	if i != 0 {
		t.IssuedAt = time.UnixMilli(i)
	}
	return t
}

// Delete removes appID's token if it is still accessToken.
func (s *Store) Delete(ctx context.Context, appID, accessToken string) error {
	k, err := s.key(appID)
	if err != nil {
		return err
	}
	if err := s.del.Run(ctx, s.rdb, []string{k}, accessToken).Err(); err != nil {
		return fmt.Errorf("redistoken: delete: %w", err)
	}
	return nil
}

// TryLock takes appID's refresh lock (SET NX PX) for ttl, at least a
// millisecond. The lock holds a random owner id. The lease's Save stores a
// token only while the lock still holds that id, and Unlock deletes the lock
// only then: a holder whose lock expired can neither overwrite the token of
// the next holder nor release its lock.
func (s *Store) TryLock(ctx context.Context, appID string, ttl time.Duration) (wxauth.TokenLease, bool, error) {
	k, err := s.key(appID)
	if err != nil {
		return nil, false, err
	}
	if ttl < time.Millisecond {
		return nil, false, errors.New("redistoken: lock ttl must be at least 1ms")
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	l := &lease{s: s, key: k, lock: k + ":lock", owner: hex.EncodeToString(b[:])}
	ok, err := s.rdb.SetNX(ctx, l.lock, l.owner, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redistoken: lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return l, true, nil
}

// lease is a lock [Store.TryLock] took: its keys and owner id.
type lease struct {
	s         *Store
	key, lock string
	owner     string
}

// Save stores tok as the token until tok.ExpiresAt if the lock still holds
// l's owner id, and fails with [wxauth.ErrLeaseLost] otherwise.
func (l *lease) Save(ctx context.Context, tok *wxauth.Token) error {
	if tok == nil || tok.AccessToken == "" || len(tok.AccessToken) > maxTokenLen {
		return fmt.Errorf("redistoken: save: token must be 1 to %d bytes", maxTokenLen)
	}
	var exp, iss int64
	if !tok.ExpiresAt.IsZero() {
		exp = max(tok.ExpiresAt.UnixMilli(), 1)
	}
	if !tok.IssuedAt.IsZero() {
		iss = max(tok.IssuedAt.UnixMilli(), 0)
	}
	saved, err := l.s.save.Run(ctx, l.s.rdb, []string{l.key, l.lock}, tok.AccessToken, exp, iss, l.owner).Int()
	if err != nil {
		return fmt.Errorf("redistoken: save: %w", err)
	}
	if saved == 0 {
		return fmt.Errorf("redistoken: save: %w", wxauth.ErrLeaseLost)
	}
	return nil
}

// Unlock deletes the lock if it still holds l's owner id.
func (l *lease) Unlock(ctx context.Context) error {
	if err := l.s.unlock.Run(ctx, l.s.rdb, []string{l.lock}, l.owner).Err(); err != nil {
		return fmt.Errorf("redistoken: unlock: %w", err)
	}
	return nil
}
