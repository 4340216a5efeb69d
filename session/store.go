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
//   - Calls return when their context ends. [Manager] gives each call a
//     context that ends after its store timeout ([WithStoreTimeout]) and
//     stops waiting then anyway, but a call that ignores its context keeps
//     running, and holding whatever it holds, until the store answers.
//
// A store that can also end every session of a user at once implements
// [SubjectStore], which [Manager.RevokeAll] needs; so should it bound the
// sessions one user holds ([DefaultMaxPerSubject]).
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

// A ContextStore is a [Store] that can say whether each of its calls
// returns once its context is done. The [Manager] bounds every store call by
// its store timeout ([WithStoreTimeout]): for a store that honours its
// context, through the context alone, on the caller's goroutine; for any
// other store, on a goroutine of its own that the Manager stops waiting for
// at the timeout (see [WithStoreTimeout]), which costs a goroutine handoff
// and a timer on every call. Package redisstore's Store is a ContextStore,
// honouring its context when the go-redis client's ContextTimeoutEnabled is
// set.
type ContextStore interface {
	Store
	// HonorsContext reports whether every call of the store returns by
	// its context's deadline, or soon after: the Manager asks once, in
	// NewManager. A store that says true and then blocks past the
	// deadline holds the request that called it.
	HonorsContext() bool
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

// DefaultMaxPerSubject is how many sessions one owner ([Record.Owner]: a
// subject, or the openid of a session without one) may hold in
// [MemoryStore] and in package redisstore by default. A login beyond it ends
// the owner's session closest to expiry (the oldest, since the [Manager]
// gives every session the same TTL), so that one user who logs in again and
// again cannot push other users' sessions out of a bounded store. Twenty is
// more devices than a person uses; a mini-program that calls wx.login on
// every start abandons its old sessions, and those are the ones that go.
const DefaultMaxPerSubject = 20

// MaxPerSubjectLimit is the largest bound [WithMaxPerSubject] accepts.
const MaxPerSubjectLimit = 1000

// Errors of [Manager.RevokeAll], for [errors.Is].
var (
	// ErrRevokeAllUnsupported means the Manager's store is not a
	// [SubjectStore]. It matches [errors.ErrUnsupported] too.
	ErrRevokeAllUnsupported = fmt.Errorf("session: the store cannot revoke all sessions of a subject (not a SubjectStore): %w", errors.ErrUnsupported)

	// ErrInvalidSubject means a subject is empty or over 256 bytes: no
	// session can have it.
	ErrInvalidSubject = errors.New("session: subject must be 1 to 256 bytes")
)

// TakeStore is a [Store] that can also take a record: read it and delete it
// in one atomic step. [PhoneHandler] takes the token it replaces before it
// spends the phone code, so that of concurrent binds with one token exactly
// one goes on (and spends a code) and the others are refused 401; it puts
// the record back when the bind fails. [MemoryStore] and package redisstore
// implement it. On a store that does not, PhoneHandler reads and deletes
// in two steps, and two binds racing with one token may both win.
//
// Take returns the record under key and removes it, as one Get and one
// Delete that no other call can come between: of concurrent Takes of one
// key, one returns the record and the others [ErrNotFound]. Besides the
// rules of [Store]: a Take of an unknown or expired key is [ErrNotFound];
// the record leaves its owner's index ([SubjectStore]) as with Delete.
// Package github.com/wxmp/miniauth/session/storetest checks these rules.
type TakeStore interface {
	Store
	Take(ctx context.Context, key string) (*Record, error)
}

// SubjectStore is a [Store] that can end every session of an owner at once:
// what [Manager.RevokeAll] needs ("log out everywhere", a banned or deleted
// user, a changed password of the application's own). [MemoryStore] and
// package redisstore implement it; [Manager.RevokeAll] on a store that does
// not fails with [ErrRevokeAllUnsupported].
//
// DeleteSubject removes every session of owner (a user's subject, or an
// openid not bound to a user): each record whose [Record.Owner] is owner
// (each record whose Subject is owner, and each record without a Subject
// whose OpenID is owner), and each record without a Subject whose OpenID
// is the OpenID of a record of owner that
// the store holds (a store may remember the openids longer, up to those
// records' expiry, as package redisstore does): the sessions the user's
// openids held before they were bound to it ("log out everywhere" means
// everywhere). A
// record with a Subject is never removed by its OpenID: an openid bound to
// a user is ended by the user's subject. Besides the rules of [Store]:
//
//   - A record Put (its Put returned) before DeleteSubject is called is gone
//     when DeleteSubject returns nil; a record Put concurrently may stay.
//     Records of other owners stay, and so does a record whose key was
//     replaced by a Put of another owner's record.
//   - A subject that holds no records is not an error. [Manager] never
//     passes an empty subject.
//   - An unreachable store returns an error that wraps [ErrStoreUnavailable];
//     the call may then have removed some records and not others, and may be
//     repeated.
//
// Package github.com/wxmp/miniauth/session/storetest checks these rules.
type SubjectStore interface {
	Store
	DeleteSubject(ctx context.Context, owner string) error
}
