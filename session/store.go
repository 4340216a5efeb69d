package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store keeps session records between requests. [Manager] hands it keys that
// are the SHA-256 of login tokens in hex (64 characters), never the tokens
// themselves, so a store that leaks yields no usable token.
//
// Implementations must be safe for concurrent use, and follow these rules:
//
//   - Get returns a record the caller may modify (a copy, or a fresh
//     decode), or [ErrNotFound] (possibly wrapped) when the key is unknown or
//     its TTL has passed. It never returns a nil record with a nil error.
//   - Put stores a copy of rec under key for ttl, replacing any record there.
//     A ttl that is not positive is an error.
//   - Delete removes the record under key; deleting an unknown key is not an
//     error.
//   - A store that cannot be reached (network, timeout, outage) returns an
//     error that wraps [ErrStoreUnavailable], never [ErrNotFound]: a client
//     whose token is checked during an outage must not be told to log in
//     again.
//
// A store that serializes records should use [MarshalRecord] and
// [UnmarshalRecord]: encoding/json on a [Record] leaves the session_key out.
// [MemoryStore] is the in-memory implementation; package
// github.com/wxmp/miniauth/session/redisstore keeps records in Redis.
type Store interface {
	Get(ctx context.Context, key string) (*Record, error)
	Put(ctx context.Context, key string, rec *Record, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// MaxKeyLen is the longest key [MemoryStore] accepts. [Manager]'s keys are 64
// bytes.
const MaxKeyLen = 256

// CheckPut checks the arguments of [Store.Put] as the Store contract states:
// a key of 1 to [MaxKeyLen] bytes, a non-nil record with an OpenID and no
// field over 256 bytes (what [UnmarshalRecord] reads back), and a positive
// ttl. Stores call it before any work.
func CheckPut(key string, rec *Record, ttl time.Duration) error {
	switch {
	case key == "" || len(key) > MaxKeyLen:
		return fmt.Errorf("session: put: key must be 1 to %d bytes", MaxKeyLen)
	case rec == nil:
		return errors.New("session: put: nil record")
	case ttl <= 0:
		return errors.New("session: put: ttl must be positive")
	}
	if err := checkRecord(rec); err != nil {
		return fmt.Errorf("session: put: %w", err)
	}
	return nil
}
