package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// renewFraction is the share of the idle timeout after which a use of a
// token extends it: a token is written back at most once per tenth of the
// idle timeout (one write per 3 minutes of use for 30 minutes), and a
// token unused for the idle timeout d ends, while one used within the last
// 0.9·d lives on. ASP.NET's sliding cookies renew after half the window,
// which lets a session end half a timeout after its last use; scs writes on
// every request. A tenth bounds both the surprise (10% of d) and the writes
// (ten per d per token, whatever the request rate).
const renewFraction = 10

// MinIdleTimeout is the shortest idle timeout [WithIdleTimeout] accepts.
const MinIdleTimeout = 10 * time.Second

// WithIdleTimeout makes sessions slide: a token unused for d ends
// ([ErrExpired], 401 expired_token), and each use (each
// [Manager.Validate], so each request through the middleware) extends it to
// d from then, never past the absolute lifetime of [WithTTL], as scs's
// IdleTimeout and Lifetime. d is from [MinIdleTimeout] to [MaxTTL]; an idle
// timeout at or above the TTL changes nothing. The Manager's clock
// ([WithClock]) decides idle expiry as it decides expiry. A token expiring
// by idleness is answered as an expired one.
//
// Extending costs a store write, so a use writes only when at least a tenth
// of d has passed since the token was last extended: at most ten writes per
// d per token, whatever the rate of requests, and a token ends between
// 0.9·d and d after its last use. The other uses write nothing and cost
// about 3% more than a Validate without an idle timeout on the memory store
// (BenchmarkValidateIdleRatio). The write replaces the record only while it
// is there ([RenewStore]): a token revoked between the read and the write
// (a logout, [Manager.RevokeAll]) stays revoked, and the request that raced
// it is refused 401 invalid_token. A write that fails for another reason
// (the store went down) leaves the token as it was, and the request goes on.
//
// The store must be a [RenewStore] ([MemoryStore] and package redisstore
// are); with any other, the Manager is not usable ([Manager.Err] wraps
// [ErrRenewUnsupported]). The login answer's expiresIn stays the TTL: the
// absolute end, which the client may use to log in again before it.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < MinIdleTimeout || d > MaxTTL {
			return errors.New("session: idle timeout must be between 10s and 366 days")
		}
		c.idle = d
		return nil
	}
}

// ErrRenewUnsupported means the store of a Manager with [WithIdleTimeout]
// is not a [RenewStore]. It matches [errors.ErrUnsupported] too.
var ErrRenewUnsupported = fmt.Errorf("session: the store cannot renew a record in place (not a RenewStore): %w", errors.ErrUnsupported)

// RenewStore is a [Store] that can replace a record only while it is
// there: what [WithIdleTimeout] needs to extend a token without bringing
// back one revoked meanwhile. [MemoryStore] and package redisstore implement
// it.
//
// Renew stores rec under key for ttl if key holds a record that has not
// expired, and returns [ErrNotFound] (possibly wrapped), storing nothing,
// if it does not: the check and the write are one atomic step, so a
// Delete or DeleteSubject that returned before Renew began is never undone.
// The [Manager] passes the record it read from Get with a later
// [Record.IdleExpiresAt], so rec has the stored record's [Record.Owner]; a
// [SubjectStore] keeps rec reachable by DeleteSubject for its whole new
// ttl. Besides, the rules of [Store] hold (a copy is stored; a positive ttl;
// [ErrStoreUnavailable] when unreachable).
//
// Package github.com/wxmp/miniauth/session/storetest checks these rules.
type RenewStore interface {
	Store
	Renew(ctx context.Context, key string, rec *Record, ttl time.Duration) error
}

// checkRenewStore reports whether the Manager's store can do what its
// options ask.
func (m *Manager) checkRenewStore() error {
	if m.cfg.idle == 0 {
		return nil
	}
	if _, ok := m.store.(RenewStore); !ok {
		return fmt.Errorf("session: idle timeout: %T: %w", m.store, ErrRenewUnsupported)
	}
	return nil
}

// idleEnd is the idle expiry of a session used at now that ends at end.
func (m *Manager) idleEnd(now, end time.Time) time.Time {
	idle := now.Add(m.cfg.idle)
	if idle.After(end) {
		return end
	}
	return idle
}

// idleState reports whether a valid rec, used at now, has been unused for
// the idle timeout, and else whether the use extends it: a tenth of the
// idle timeout has passed since it was last extended (renew leaves a record
// that has reached its absolute end as it is). A record issued without an
// idle timeout is extended at its first use.
func (m *Manager) idleState(rec *Record, now time.Time) (expired, renew bool) {
	if rec.IdleExpiresAt.IsZero() {
		return false, true
	}
	left := rec.IdleExpiresAt.Sub(now)
	return left <= 0, left <= m.cfg.idle-m.cfg.idle/renewFraction
}

// renew extends rec, the record under key, for a use at now. It returns
// [ErrInvalidToken] when the record went meanwhile (revoked); a failure of
// the store leaves rec as it was and is no error: the token is good, and
// the next use tries again.
func (m *Manager) renew(ctx context.Context, key string, rec *Record, now time.Time) error {
	idle := m.idleEnd(now, rec.ExpiresAt)
	if !idle.After(rec.IdleExpiresAt) {
		return nil
	}
	next := *rec
	next.IdleExpiresAt = idle
	rs := m.store.(RenewStore) // checked by NewManager
	_, err := m.storeCall(ctx, "renew", func(ctx context.Context) (*Record, error) {
		return nil, rs.Renew(ctx, key, &next, idle.Sub(now)+expiredGrace)
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrInvalidToken
	case err != nil:
		return nil
	}
	rec.IdleExpiresAt = idle
	return nil
}
