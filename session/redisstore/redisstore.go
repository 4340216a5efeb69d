// Package redisstore is a [session.Store] on Redis, for applications that
// run on more than one machine. It takes any [redis.UniversalClient] from
// github.com/redis/go-redis/v9, so a single node, Sentinel and Cluster work
// alike.
//
// Records are JSON ([session.MarshalRecord]) under a key prefix (default
// [DefaultPrefix]) followed by the hex SHA-256 of the token, and expire with
// the SET itself (SET key value PX ttl), so Redis drops them without help.
// Any failure to talk to Redis wraps [session.ErrStoreUnavailable], never
// [session.ErrNotFound]: the middleware answers 503 and clients keep their
// tokens through an outage.
//
// Give the client timeouts that fit a request path: every authenticated
// request waits on Redis. go-redis defaults to a 5 s dial timeout, five dial
// attempts 100 ms apart, 3 s read and write timeouts and three retries, so a
// request may wait seconds during an outage before it gets its 503.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxmp/miniauth/session"
)

// DefaultPrefix is the default prefix of the keys the store writes.
const DefaultPrefix = "miniauth:session:"

// maxPrefixLen caps the key prefix.
const maxPrefixLen = 256

// An Option configures the store [New] returns. Options validate their
// arguments: New returns the first error.
type Option func(*Store) error

// WithPrefix sets the prefix of the store's keys (default [DefaultPrefix]),
// to keep the sessions of several applications on one Redis apart. It must
// be 1 to 256 bytes.
func WithPrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix == "" || len(prefix) > maxPrefixLen {
			return fmt.Errorf("redisstore: prefix must be 1 to %d bytes", maxPrefixLen)
		}
		s.prefix = prefix
		return nil
	}
}

// Store is a [session.Store] on Redis. It is safe for concurrent use. Create
// it with [New].
type Store struct {
	client redis.UniversalClient
	prefix string
}

var _ session.Store = (*Store)(nil)

// New returns a store that keeps records through client. The client is the
// caller's: the store never closes it.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: client must not be nil")
	}
	s := &Store{client: client, prefix: DefaultPrefix}
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

// Put stores rec under key with a TTL, in one SET.
func (s *Store) Put(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	if err := session.CheckPut(key, rec, ttl); err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	b, err := session.MarshalRecord(rec)
	if err != nil {
		return fmt.Errorf("redisstore: put: %w", err)
	}
	if err := s.client.Set(ctx, s.prefix+key, b, ttl).Err(); err != nil {
		return unavailable("put", err)
	}
	return nil
}

// Delete removes the record under key. A key that is not there is no error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.prefix+key).Err(); err != nil {
		return unavailable("delete", err)
	}
	return nil
}
