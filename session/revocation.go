package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// A revocation mark is a record [Manager.RevokeAll] puts in the store
// before it deletes an owner's sessions, saying when the owner's sessions
// were ended. It exists for one race: a phone bind takes its token out of
// the store before it spends the phone code (see [TakeStore]), so a
// RevokeAll that runs meanwhile cannot see that session; when the bind
// then fails and puts the token back, the mark tells it the token was
// revoked, and the token stays gone.
//
// The mark is stored under a key no token hashes to (the SHA-256 of a
// fixed prefix and the owner, where a token's key is the SHA-256 of the
// token), as a record whose owner is the mark's own ("revoked:" and the
// owner's hash), so that it is neither ended by the RevokeAll it marks nor
// counted among the owner's sessions.
const revocationMarkTTL = time.Hour

// revocationKey returns the store key of owner's revocation mark.
func revocationKey(owner string) string {
	sum := sha256.Sum256([]byte("miniauth session revocation\x00" + owner))
	return hex.EncodeToString(sum[:])
}

// markRevoked puts owner's revocation mark, timed now.
func (m *Manager) markRevoked(ctx context.Context, owner string) error {
	now := m.cfg.now()
	sum := sha256.Sum256([]byte(owner))
	mark := &Record{
		OpenID:    "revoked:" + hex.EncodeToString(sum[:]),
		IssuedAt:  now,
		ExpiresAt: now.Add(revocationMarkTTL),
	}
	return m.store.Put(ctx, revocationKey(owner), mark, revocationMarkTTL)
}

// revokedSince reports whether a RevokeAll of rec's owner, or of its
// openid, has marked them since rec was issued: rec is then one of the
// sessions it ended.
func (m *Manager) revokedSince(ctx context.Context, rec *Record) (bool, error) {
	owners := []string{rec.Owner()}
	if rec.OpenID != rec.Owner() {
		owners = append(owners, rec.OpenID)
	}
	for _, o := range owners {
		mark, err := m.store.Get(ctx, revocationKey(o))
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return false, err
		case !mark.IssuedAt.Before(rec.IssuedAt):
			return true, nil
		}
	}
	return false, nil
}
