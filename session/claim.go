package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// A claim is a token that [PhoneHandler] has taken out of the store before
// it spends the phone code: the one bind that goes on with it (see
// [TakeStore]).
type claim struct {
	key string
	rec *Record
}

// claimRequest takes the token of r out of the store: of concurrent
// requests with one token, one gets the claim and the others
// [ErrInvalidToken]. An expired record is [ErrExpired] (and stays taken).
func (m *Manager) claimRequest(r *http.Request) (*claim, error) {
	key, ok := storeKey(m.cfg.token.token(r))
	if !ok {
		return nil, ErrInvalidToken
	}
	ctx := r.Context()
	rec, err := m.storeCall(ctx, "claim", func(ctx context.Context) (*Record, error) {
		if ts, ok := m.store.(TakeStore); ok {
			return ts.Take(ctx, key)
		}
		// Two steps: two binds with one token may both get here.
		rec, err := m.store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		return rec, m.store.Delete(ctx, key)
	})
	switch {
	case errors.Is(err, ErrNotFound), err == nil && rec == nil:
		return nil, ErrInvalidToken
	case err != nil:
		return nil, fmt.Errorf("session: claim: %w", err)
	case !m.cfg.now().Before(rec.ExpiresAt):
		return nil, ErrExpired
	}
	return &claim{key: key, rec: rec}, nil
}

// giveBack puts a claimed token back, unchanged, when the bind failed
// before a new token was issued: a refused phone code must not log the
// user out. It reports an error when the store refused; the client then
// logs in again.
//
// A Revoke or RevokeAll that ran while the token was out of the store did
// not see it: after the Put, giveBack reads the revocation marks of the
// token and of its owner (see revocation.go) and deletes the token again
// when one is as late as the token's issue, or cannot be read. A
// revocation puts its mark before it deletes, so either this read sees the
// mark, or the token was back in the store before the revocation began to
// delete.
func (m *Manager) giveBack(ctx context.Context, c *claim) error {
	ttl := c.rec.ExpiresAt.Sub(m.cfg.now()) + expiredGrace
	if ttl <= 0 {
		return nil
	}
	_, err := m.storeCall(context.WithoutCancel(ctx), "give back", func(ctx context.Context) (*Record, error) {
		if err := m.store.Put(ctx, c.key, c.rec, ttl); err != nil {
			return nil, err
		}
		revoked, err := m.revoked(ctx, c.key, c.rec)
		if err == nil && !revoked {
			return nil, nil
		}
		// Revoked meanwhile, or no telling: the token stays gone.
		return nil, errors.Join(errTokenRevoked, err, m.store.Delete(ctx, c.key))
	})
	return err
}

// endIfRevoked revokes token, the one a bind issued for the claimed
// session c, when a revocation of c ran while c was out of the store (its
// mark is there), or when the marks cannot be read: the answer is then
// 401 invalid_token (503 when the store failed), and the client logs in
// again.
func (m *Manager) endIfRevoked(ctx context.Context, c *claim, token string) *HTTPError {
	var revoked bool
	_, err := m.storeCall(ctx, "bind revocation check", func(ctx context.Context) (*Record, error) {
		var err error
		revoked, err = m.revoked(ctx, c.key, c.rec)
		return nil, err
	})
	if err == nil && !revoked {
		return nil
	}
	m.discard(ctx, token)
	if err != nil {
		return m.tokenError(fmt.Errorf("session: bind: reading revocation marks: %w", err))
	}
	return m.tokenError(ErrInvalidToken)
}

// discard deletes the record of token, a token the Manager issued and gave
// to nobody, without a revocation mark: no bind can hold it. It runs
// without ctx's cancellation, and a failure leaves a token no one has.
func (m *Manager) discard(ctx context.Context, token string) {
	key, ok := storeKey(token)
	if !ok {
		return
	}
	_, _ = m.storeCall(context.WithoutCancel(ctx), "discard", func(ctx context.Context) (*Record, error) {
		return nil, m.store.Delete(ctx, key)
	})
}

// errTokenRevoked is giveBack's error for a token that a RevokeAll ended
// while it was out of the store.
var errTokenRevoked = errors.New("session: the token was revoked during the bind")
