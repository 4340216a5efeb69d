// Package redistoken is a [wxauth.TokenStore] on Redis: the instances of a
// fleet share one access_token, and a short lock (SET NX PX) makes one of
// them refresh it while the others wait and read it.
//
//	store, err := redistoken.New(redisClient)
//	app, err := wxauth.New(appID, secret, wxauth.WithTokenStore(store))
//
// It uses the same Redis as the session store if you like; its keys are
// "miniauth:token:<appid>" (a hash of the token, its expiry and its issue
// time, expiring with the token) and "miniauth:token:<appid>:lock".
package redistoken

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
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
// Redis. Every instance of a fleet must use the same prefix.
func WithKeyPrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix == "" || len(prefix) > maxPrefixLen {
			return fmt.Errorf("redistoken: key prefix must be 1 to %d bytes", maxPrefixLen)
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
		// Replace the token and let it expire with the token itself.
		save: redis.NewScript(`
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

func (s *Store) key(appID string) (string, error) {
	if appID == "" || len(appID) > maxAppIDLen {
		return "", fmt.Errorf("redistoken: appid must be 1 to %d bytes", maxAppIDLen)
	}
	return s.prefix + appID, nil
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

// Save stores tok as appID's token until tok.ExpiresAt.
func (s *Store) Save(ctx context.Context, appID string, tok *wxauth.Token) error {
	k, err := s.key(appID)
	if err != nil {
		return err
	}
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
	if err := s.save.Run(ctx, s.rdb, []string{k}, tok.AccessToken, exp, iss).Err(); err != nil {
		return fmt.Errorf("redistoken: save: %w", err)
	}
	return nil
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
// millisecond. The lock holds a random owner id; unlock deletes it only if
// it still holds that id, so a holder whose lock expired cannot release the
// next holder's.
func (s *Store) TryLock(ctx context.Context, appID string, ttl time.Duration) (func(context.Context) error, bool, error) {
	k, err := s.key(appID)
	if err != nil {
		return nil, false, err
	}
	if ttl < time.Millisecond {
		return nil, false, errors.New("redistoken: lock ttl must be at least 1ms")
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	owner := hex.EncodeToString(b[:])
	lk := k + ":lock"
	ok, err := s.rdb.SetNX(ctx, lk, owner, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redistoken: lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	unlock := func(ctx context.Context) error {
		if err := s.unlock.Run(ctx, s.rdb, []string{lk}, owner).Err(); err != nil {
			return fmt.Errorf("redistoken: unlock: %w", err)
		}
		return nil
	}
	return unlock, true, nil
}
