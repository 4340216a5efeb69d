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
// were ended ([Manager.Revoke] puts one for its token). It exists for one
// race: a phone bind takes its token out of the store before it spends the
// phone code (see [TakeStore]), so a revocation that runs meanwhile cannot
// see that session. When the bind then fails and puts the token back, the
// mark tells it the token was revoked, and the token stays gone; when the
// bind succeeds, the mark tells it to end the new token it issued.
//
// The mark is stored under a key no token hashes to (the SHA-256 of a
// fixed prefix and the owner, where a token's key is the SHA-256 of the
// token), as a record whose owner is the mark's own ("revoked:" and the
// owner's hash), so that it is neither ended by the RevokeAll it marks nor
// counted among the owner's sessions.
//
// A mark lives ten minutes: far longer than a bind holds a token (its
// store calls, the phone exchange and the hook are each bounded by a
// timeout of seconds), and short enough that a server whose users log out
// often keeps few of them.
const revocationMarkTTL = 10 * time.Minute

// revocationKey returns the store key of owner's revocation mark.
func revocationKey(owner string) string {
	sum := sha256.Sum256([]byte("miniauth session revocation\x00" + owner))
	return hex.EncodeToString(sum[:])
}

// markRevoked puts the revocation mark of owner (or of a token, named by
// [tokenMarkName]), timed now.
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

// tokenMarkName is the name [Manager.Revoke] marks the token stored under
// key by: no owner's name, since a store key is 64 hex digits and this is
// not.
func tokenMarkName(key string) string { return "\x00token\x00" + key }

// revoked reports whether the session under key, rec, was revoked since it
// was issued: by a [Manager.Revoke] of its token (its mark names this token
// alone, so being there is enough), or by a [Manager.RevokeAll] of its
// owner or of its openid (a mark timed no earlier than the session's
// issue: a session issued after the RevokeAll is not one it ended). The
// second compares the clocks of the instances that revoked and issued: a
// fleet's clocks must agree to well within the time between a login and a
// revocation.
func (m *Manager) revoked(ctx context.Context, key string, rec *Record) (bool, error) {
	names := []string{tokenMarkName(key), rec.Owner()}
	if rec.OpenID != rec.Owner() {
		names = append(names, rec.OpenID)
	}
	for i, o := range names {
		mark, err := m.store.Get(ctx, revocationKey(o))
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return false, err
		case i == 0 || !mark.IssuedAt.Before(rec.IssuedAt):
			return true, nil
		}
	}
	return false, nil
}
