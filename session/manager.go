package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wxmp/miniauth"
)

// expiredGrace is how long a store keeps a record past its expiry, so that a
// token that expired recently is reported as [ErrExpired] (the client's
// login timed out) rather than [ErrInvalidToken].
const expiredGrace = 10 * time.Minute

// Manager issues, checks and revokes the application's own login tokens.
// After code2session, [Manager.Issue] keeps the user's session on the server
// and returns an opaque token for the client; [Manager.Validate] (or
// [Manager.Middleware]) checks it on each request.
//
// A Manager is safe for concurrent use. Create it with [NewManager].
type Manager struct {
	store    Store
	ownStore *MemoryStore // created by NewManager, closed by Close
	bounded  bool         // store calls run under the store timeout
	inline   bool         // ... on the caller's goroutine: the store honours its context (ContextStore)
	health   health
	guard    *guard // the login path's other dependencies (guard.go)
	cfg      config
	err      error // from an option; fails every call
}

// NewManager returns a Manager that keeps sessions in store; a nil store
// means a new [MemoryStore] with default options, which [Manager.Close]
// closes.
//
// Every call the Manager makes to a store other than a [MemoryStore] gets a
// context that ends after the store timeout ([DefaultStoreTimeout],
// [WithStoreTimeout]); a call still running then fails with
// [ErrStoreUnavailable], so a hung store costs a request one short wait and
// a 503. The Manager logs the store going down (with the first cause) and
// coming back (with the count of calls refused in between), not each
// failure, and [LoginHandler] refuses logins while the store is known to be
// down before it spends their wx.login codes.
//
// An option that refuses its argument does not make NewManager fail: the
// Manager it returns reports the error from [Manager.Err], and every call on
// it fails with that error (its middleware and login handler answer 500 and
// log why). Check Err once at start-up.
func NewManager(store Store, opts ...Option) *Manager {
	m := &Manager{store: store, cfg: defaultConfig()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&m.cfg); err != nil && m.err == nil {
			m.err = err
		}
	}
	switch {
	case m.cfg.logger != nil:
	case m.err != nil: // make the misconfiguration seen
		m.cfg.logger = slog.Default()
	default:
		m.cfg.logger = slog.New(slog.DiscardHandler)
	}
	if m.err != nil {
		return m
	}
	m.guard = newGuard(m.cfg.dependencies)
	if store == nil {
		cfg := defaultMemoryConfig()
		cfg.now = m.cfg.now
		m.ownStore = newMemoryStore(cfg)
		m.store = m.ownStore
	}
	_, inMemory := m.store.(*MemoryStore)
	m.bounded = !inMemory
	if cs, ok := m.store.(ContextStore); ok && m.bounded {
		m.inline = cs.HonorsContext()
	}
	if err := m.checkRenewStore(); err != nil {
		m.err = err
		m.cfg.logger = slog.Default() // make the misconfiguration seen, as for an option
	}
	return m
}

// Err returns the error of the first option [NewManager] was given that
// refused its argument, or nil when the Manager is usable.
func (m *Manager) Err() error { return m.err }

// TTL returns how long the tokens the Manager issues are valid.
func (m *Manager) TTL() time.Duration { return m.cfg.ttl }

// Close stops the background probes of the login path's dependencies (see
// [WithDependency]) and closes the memory store that [NewManager] created
// when it was given a nil store. A store passed to NewManager is left
// alone: closing it is its owner's job. Close may be called more than once.
func (m *Manager) Close() error {
	m.guard.close()
	if m.ownStore != nil {
		return m.ownStore.Close()
	}
	return nil
}

func (m *Manager) unusable() error {
	return fmt.Errorf("session: manager not usable: %w", m.err)
}

// An IssueOption configures one [Manager.Issue].
type IssueOption func(*Record)

// ForSubject makes [Manager.Issue] record subject, the application's own id
// of the user, in the session ([Record.Subject]). [LoginHandler] does this
// with the [LoginInfo.Subject] its hook sets.
func ForSubject(subject string) IssueOption {
	return func(r *Record) { r.Subject = subject }
}

// endingBy caps the lifetime of the session [Manager.Issue] records at end:
// a session that continues another (a phone bind) ends no later than it.
func endingBy(end time.Time) IssueOption {
	return func(r *Record) {
		if r.ExpiresAt.After(end) {
			r.ExpiresAt = end
		}
		if r.IdleExpiresAt.After(end) {
			r.IdleExpiresAt = end
		}
	}
}

// Issue starts a login for the user of s (typically straight from
// [wxauth.App.Code2Session]) and returns its token: 32 bytes from
// crypto/rand in unpadded base64url ([TokenLen] characters). Give the token
// to the client; the session_key stays in the store, which keys the record by
// the SHA-256 of the token, never the token itself.
//
// The record keeps s.AppID, and the application's user id when [ForSubject]
// is given. A nil session, an empty OpenID, or an AppID, OpenID, UnionID,
// SessionKey or subject over 256 bytes is an error. A store failure wraps the store's error
// ([ErrStoreUnavailable] when it is down).
func (m *Manager) Issue(ctx context.Context, s *miniauth.Session, opts ...IssueOption) (string, error) {
	if m.err != nil {
		return "", m.unusable()
	}
	if s == nil {
		return "", errors.New("session: issue: nil session")
	}
	now := m.cfg.now()
	rec := &Record{
		Platform:   s.Platform,
		AppID:      s.AppID,
		OpenID:     s.OpenID,
		UnionID:    s.UnionID,
		SessionKey: s.SessionKey,
		IssuedAt:   now,
		ExpiresAt:  now.Add(m.cfg.ttl),
	}
	if m.cfg.idle > 0 {
		rec.IdleExpiresAt = m.idleEnd(now, rec.ExpiresAt)
	}
	for _, o := range opts {
		if o != nil {
			o(rec)
		}
	}
	end := rec.ExpiresAt // what the store keeps it for, less the grace
	if m.cfg.idle > 0 {
		end = rec.IdleExpiresAt
	}
	if !end.After(now) {
		return "", errors.New("session: issue: the session has ended already")
	}
	if err := checkRecord(rec); err != nil {
		return "", fmt.Errorf("session: issue: %w", err)
	}
	token, err := newToken()
	if err != nil {
		return "", fmt.Errorf("session: issue: reading random bytes: %w", err)
	}
	key, _ := storeKey(token)
	if _, err := m.storeCall(ctx, "issue", func(ctx context.Context) (*Record, error) {
		return nil, m.store.Put(ctx, key, rec, end.Sub(now)+expiredGrace)
	}); err != nil {
		return "", fmt.Errorf("session: issue: %w", err)
	}
	m.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "session: issued", slog.String("openid", s.OpenID))
	if m.cfg.afterIssue != nil {
		cp := *rec
		m.cfg.afterIssue(ctx, &cp)
	}
	return token, nil
}

// Validate returns the record of a token. A token that is malformed, longer
// than [TokenLen], never issued or revoked is [ErrInvalidToken]; one past its
// expiry, or unused for the idle timeout ([WithIdleTimeout]), is
// [ErrExpired]. When the store is down the error wraps
// [ErrStoreUnavailable] and is neither of those: the token may well be good.
//
// A valid record then goes through the [WithRecordCheck] function, if any
// (its refusal matches [ErrLoginRefused]; its failure wraps
// [ErrRecordCheck]), and with an idle timeout the use extends the token.
//
// The record returned is the caller's own copy.
func (m *Manager) Validate(ctx context.Context, token string) (*Record, error) {
	if m.err != nil {
		return nil, m.unusable()
	}
	key, ok := storeKey(token)
	if !ok {
		return nil, ErrInvalidToken
	}
	rec, err := m.storeCall(ctx, "validate", func(ctx context.Context) (*Record, error) {
		return m.store.Get(ctx, key)
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrInvalidToken
	case err != nil:
		return nil, fmt.Errorf("session: validate: %w", err)
	case rec == nil: // a store that breaks its contract
		return nil, ErrInvalidToken
	}
	now := m.cfg.now()
	if !now.Before(rec.ExpiresAt) {
		return nil, ErrExpired
	}
	renew := false
	if m.cfg.idle > 0 {
		var expired bool
		if expired, renew = m.idleState(rec, now); expired {
			return nil, ErrExpired
		}
	}
	if m.cfg.recordCheck != nil {
		if err := m.runRecordCheck(ctx, rec); err != nil {
			return nil, err
		}
	}
	if renew {
		if err := m.renew(ctx, key, rec, now); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// Revoke ends the login of a token (a logout): later calls to
// [Manager.Validate] return [ErrInvalidToken]. Revoking an unknown or already
// revoked token is not an error; a malformed one is [ErrInvalidToken]. A
// phone bind that holds the token out of the store meanwhile does not give
// it back: Revoke first puts a mark in the store (a record of its own that
// lives ten minutes), which the bind reads.
func (m *Manager) Revoke(ctx context.Context, token string) error {
	if m.err != nil {
		return m.unusable()
	}
	key, ok := storeKey(token)
	if !ok {
		return ErrInvalidToken
	}
	if _, err := m.storeCall(ctx, "revoke", func(ctx context.Context) (*Record, error) {
		// The mark first: a phone bind holding the token out of the store
		// reads it before it gives the token back.
		if err := m.markRevoked(ctx, tokenMarkName(key)); err != nil {
			return nil, err
		}
		return nil, m.store.Delete(ctx, key)
	}); err != nil {
		return fmt.Errorf("session: revoke: %w", err)
	}
	return nil
}

// RevokeAll ends every session of owner ("log out everywhere"). owner is
// a user's subject or, for a user the application has not bound yet, an
// openid: what [Record.Owner] returns. For a subject it ends each session
// whose [Record.Subject] is owner and each session without a subject of the
// openids the user's sessions were issued for: the sessions those openids
// held before they were bound to the user (a silent login on another
// device, a token taken before the user registered) go too, as long as the
// user holds a session of its own (see [SubjectStore]). For an openid
// it ends each session without a subject of that openid; a session with a
// subject is not ended by its openid: pass the subject. Sessions issued
// while RevokeAll runs may stay; those issued before it was called are gone
// when it returns nil, the one a phone bind holds out of the store
// meanwhile included: RevokeAll first puts a mark in the store (a record
// of its own that lives ten minutes), which the bind reads before it gives a
// token back. A bind holding a session without a subject reads the marks
// of that session's openid only, not of a subject the openid was linked
// to.
//
// The store must be a [SubjectStore] ([MemoryStore] and package redisstore
// are); any other store makes RevokeAll fail with [ErrRevokeAllUnsupported].
// An empty owner, or one over 256 bytes, is [ErrInvalidSubject]. A store
// failure wraps the store's error ([ErrStoreUnavailable] when it is down):
// some sessions may then be ended and others not, and RevokeAll may be
// called again.
func (m *Manager) RevokeAll(ctx context.Context, owner string) error {
	if m.err != nil {
		return m.unusable()
	}
	if owner == "" || len(owner) > maxFieldLen {
		return ErrInvalidSubject
	}
	ss, ok := m.store.(SubjectStore)
	if !ok {
		return fmt.Errorf("session: revoke all: %T: %w", m.store, ErrRevokeAllUnsupported)
	}
	if _, err := m.storeCall(ctx, "revoke all", func(ctx context.Context) (*Record, error) {
		// The mark first: a phone bind holding one of the owner's tokens
		// out of the store reads it before it puts the token back.
		if err := m.markRevoked(ctx, owner); err != nil {
			return nil, err
		}
		return nil, ss.DeleteSubject(ctx, owner)
	}); err != nil {
		return fmt.Errorf("session: revoke all: %w", err)
	}
	m.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "session: revoked all", slog.String("owner", owner))
	return nil
}
