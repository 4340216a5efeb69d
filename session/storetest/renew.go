package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// putTTL is the TTL of a record Put to be renewed past it: long enough
// that the Renew right after the Put finds it on a loaded machine.
const putTTL = 500 * time.Millisecond

// renewStore returns s as a [session.RenewStore], or skips the test.
func renewStore(t *testing.T, s session.Store) session.RenewStore {
	t.Helper()
	rs, ok := s.(session.RenewStore)
	if !ok {
		t.Skipf("storetest: %T is not a session.RenewStore: a Manager with WithIdleTimeout is not usable on it", s)
	}
	return rs
}

// renewed returns a copy of rec with its idle expiry moved by d.
func renewed(rec *session.Record, d time.Duration) *session.Record {
	r := *rec
	r.IdleExpiresAt = r.IdleExpiresAt.Add(d)
	return &r
}

func testRenew(t *testing.T, s session.Store) {
	rs := renewStore(t, s)
	ctx := t.Context()
	key, other := newKey(), newKey()
	rec := newRecord(1)
	requirePut(t, s, key, rec, putTTL)
	requirePut(t, s, other, newRecord(2), time.Hour)

	next := renewed(rec, 5*time.Minute)
	require.NoError(t, rs.Renew(ctx, key, next, time.Hour), "Renew of a record that is there")
	requireRecord(t, s, key, next, "Get after Renew")
	requireRecord(t, s, other, newRecord(2), "Renew of one key changed another")
	next.IdleExpiresAt = time.Time{}
	requireRecord(t, s, key, renewed(rec, 5*time.Minute), "Renew kept the caller's record, not a copy")

	// The renewed TTL replaced the short one.
	time.Sleep(putTTL + 2*shortTTL)
	requireRecord(t, s, key, renewed(rec, 5*time.Minute), "Get after the TTL of the Put, within the TTL of Renew")

	err := rs.Renew(ctx, newKey(), newRecord(3), time.Hour)
	require.ErrorIs(t, err, session.ErrNotFound, "Renew of a key never stored")
	require.NotErrorIs(t, err, session.ErrStoreUnavailable)

	// A record past its TTL is not renewed.
	short := newKey()
	requirePut(t, s, short, newRecord(4), shortTTL)
	deadline := time.Now().Add(expireWait)
	for {
		got, err := s.Get(ctx, short)
		if err != nil {
			require.True(t, isNotFound(t, got, err, "Get of a record past its TTL"))
			break
		}
		require.True(t, time.Now().Before(deadline), "a record put with a TTL of %s is still there after %s", shortTTL, expireWait)
		time.Sleep(shortTTL / 2)
	}
	require.ErrorIs(t, rs.Renew(ctx, short, newRecord(4), time.Hour), session.ErrNotFound, "Renew of a record past its TTL")
	requireNotFound(t, s, short, "Get after a refused Renew of an expired record")
}

func testRenewRefuses(t *testing.T, s session.Store) {
	rs := renewStore(t, s)
	ctx := t.Context()
	key := newKey()
	rec := newRecord(1)
	requirePut(t, s, key, rec, time.Hour)
	noOpenID := newRecord(2)
	noOpenID.OpenID = ""
	for name, call := range map[string]func() error{
		"nil record":   func() error { return rs.Renew(ctx, key, nil, time.Hour) },
		"no openid":    func() error { return rs.Renew(ctx, key, noOpenID, time.Hour) },
		"zero ttl":     func() error { return rs.Renew(ctx, key, renewed(rec, time.Minute), 0) },
		"negative ttl": func() error { return rs.Renew(ctx, key, renewed(rec, time.Minute), -time.Second) },
		"empty key":    func() error { return rs.Renew(ctx, "", renewed(rec, time.Minute), time.Hour) },
	} {
		assert.Error(t, call(), "Renew with %s", name)
	}
	requireRecord(t, s, key, rec, "a refused Renew changed the record")
}

// testRenewAfterDelete checks that Renew never brings back a record that
// Delete or DeleteSubject removed.
func testRenewAfterDelete(t *testing.T, s session.Store) {
	rs := renewStore(t, s)
	ctx := t.Context()
	key := newKey()
	rec := newRecord(1)
	requirePut(t, s, key, rec, time.Hour)
	require.NoError(t, s.Delete(ctx, key))
	require.ErrorIs(t, rs.Renew(ctx, key, renewed(rec, time.Minute), time.Hour), session.ErrNotFound, "Renew after Delete")
	requireNotFound(t, s, key, "Get after Delete and Renew")

	ss, ok := s.(session.SubjectStore)
	if !ok {
		return
	}
	subject := "user-" + newKey()[:12]
	owned := ownedRecord(subject, "o-"+subject, 2)
	requirePut(t, s, key, owned, time.Hour)
	require.NoError(t, ss.DeleteSubject(ctx, subject))
	require.ErrorIs(t, rs.Renew(ctx, key, renewed(owned, time.Minute), time.Hour), session.ErrNotFound, "Renew after DeleteSubject")
	requireNotFound(t, s, key, "Get after DeleteSubject and Renew")
}

// testRenewKeepsIndex checks that a renewed record stays reachable by
// DeleteSubject for its new TTL, past the TTL it was Put with.
func testRenewKeepsIndex(t *testing.T, s session.Store) {
	rs := renewStore(t, s)
	ss := subjectStore(t, s)
	ctx := t.Context()
	subject := "user-" + newKey()[:12]
	key := newKey()
	rec := ownedRecord(subject, "o-"+subject, 1)
	requirePut(t, s, key, rec, putTTL)
	require.NoError(t, rs.Renew(ctx, key, renewed(rec, time.Minute), time.Hour))
	time.Sleep(putTTL + 2*shortTTL)
	// Another Put of the owner, which prunes what an index holds as expired.
	requirePut(t, s, newKey(), ownedRecord(subject, "o2-"+subject, 2), time.Hour)
	requireRecord(t, s, key, renewed(rec, time.Minute), "Get of a renewed record past the TTL of its Put")
	require.NoError(t, ss.DeleteSubject(ctx, subject))
	requireNotFound(t, s, key, "a record renewed past the TTL of its Put outlived DeleteSubject")

	// The sessions an openid held before it was bound to the subject end
	// with the subject's as long as a record of the subject with that
	// openid lives: renewals included.
	subject = "user-" + newKey()[:12]
	openID := "o-" + subject
	prebind, bound := newKey(), newKey()
	requirePut(t, s, prebind, ownedRecord("", openID, 3), time.Hour)
	rec = ownedRecord(subject, openID, 4)
	requirePut(t, s, bound, rec, putTTL)
	require.NoError(t, rs.Renew(ctx, bound, renewed(rec, time.Minute), time.Hour))
	time.Sleep(putTTL + 2*shortTTL)
	require.NoError(t, ss.DeleteSubject(ctx, subject))
	requireNotFound(t, s, bound, "a renewed record of the subject after DeleteSubject")
	requireNotFound(t, s, prebind, "a session of the openid before the bind, after DeleteSubject of the subject whose renewed record has the openid")
}

// testRenewRace has goroutines renew records while others delete them:
// once a Delete (or DeleteSubject) has returned, no Renew brings its
// record back.
func testRenewRace(t *testing.T, s session.Store) {
	rs := renewStore(t, s)
	ss, _ := s.(session.SubjectStore)
	const records, renewers = 16, 4
	ctx := t.Context()
	var wg sync.WaitGroup
	for n := range records {
		wg.Go(func() {
			key := newKey()
			subject := fmt.Sprint("race-", n, "-", newKey()[:12])
			rec := ownedRecord(subject, "o-"+subject, n)
			if !assert.NoError(t, s.Put(ctx, key, rec, time.Hour)) {
				return
			}
			var deleted atomic.Bool
			var rw sync.WaitGroup
			for g := range renewers {
				rw.Go(func() {
					for i := 1; ; i++ {
						after := deleted.Load()
						err := rs.Renew(ctx, key, renewed(rec, time.Duration(g*1000+i)*time.Millisecond), time.Hour)
						if err != nil {
							assert.ErrorIs(t, err, session.ErrNotFound, "Renew racing a delete")
							return
						}
						if !assert.False(t, after, "Renew succeeded after the Delete had returned") {
							return
						}
					}
				})
			}
			time.Sleep(time.Duration(n%4) * time.Millisecond)
			if ss != nil && n%2 == 1 {
				assert.NoError(t, ss.DeleteSubject(ctx, subject))
			} else {
				assert.NoError(t, s.Delete(ctx, key))
			}
			deleted.Store(true)
			rw.Wait()
			got, err := s.Get(ctx, key)
			isNotFound(t, got, err, "Get after Delete, once the renewing goroutines stopped")
		})
	}
	wg.Wait()
}

// clock is a manual clock for a Manager: each reading moves it on by step.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// storeKey is the key the Manager keeps a token's record under.
func storeKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func testSession(n int) *wxauth.Session {
	return &wxauth.Session{AppID: "wx-storetest", OpenID: fmt.Sprint("o-sliding-", n, "-", newKey()[:12]),
		SessionKey: "tiihtNczf5v6AKRyjwEUhQ=="}
}

// testSlidingSession walks a token of a Manager with an idle timeout through
// its life on the store, with the Manager's clock: renewal, idle expiry,
// and the absolute end.
func testSlidingSession(t *testing.T, s session.Store) {
	renewStore(t, s)
	ctx := t.Context()
	const ttl, idle = 2 * time.Hour, 30 * time.Minute
	c := &clock{t: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)}
	m := session.NewManager(s, session.WithClock(c.now), session.WithTTL(ttl), session.WithIdleTimeout(idle))
	require.NoError(t, m.Err())

	stored := func(token string) *session.Record {
		t.Helper()
		rec, err := s.Get(ctx, storeKey(token))
		require.NoError(t, err)
		return rec
	}
	valid := func(token string, msg string) *session.Record {
		t.Helper()
		rec, err := m.Validate(ctx, token)
		require.NoError(t, err, msg)
		return rec
	}

	t0 := c.now()
	tok, err := m.Issue(ctx, testSession(1))
	require.NoError(t, err)
	rec := valid(tok, "at issue")
	require.Equal(t, t0.Add(idle), rec.IdleExpiresAt.UTC(), "idle expiry at issue")
	require.Equal(t, t0.Add(ttl), rec.ExpiresAt.UTC(), "absolute expiry at issue")

	c.advance(2 * time.Minute) // under a tenth of the idle timeout: no write
	rec = valid(tok, "2m after issue")
	require.Equal(t, t0.Add(idle), rec.IdleExpiresAt.UTC(), "a use within a tenth of the idle timeout renewed")
	require.Equal(t, t0.Add(idle), stored(tok).IdleExpiresAt.UTC(), "a use within a tenth of the idle timeout wrote")

	c.advance(27 * time.Minute) // t0+29m: renewed to t0+59m
	rec = valid(tok, "29m after issue")
	require.Equal(t, t0.Add(59*time.Minute), rec.IdleExpiresAt.UTC(), "renewal")
	require.Equal(t, t0.Add(59*time.Minute), stored(tok).IdleExpiresAt.UTC(), "renewal in the store")

	c.advance(29 * time.Minute) // t0+58m: renewed to t0+88m
	valid(tok, "58m after issue, 29m after the last use")
	require.Equal(t, t0.Add(88*time.Minute), stored(tok).IdleExpiresAt.UTC(), "second renewal in the store")

	c.advance(30 * time.Minute) // t0+88m: unused for the idle timeout
	_, err = m.Validate(ctx, tok)
	require.ErrorIs(t, err, session.ErrExpired, "a token unused for the idle timeout")
	_, err = m.Validate(ctx, tok)
	require.ErrorIs(t, err, session.ErrExpired, "an idle-expired token is not brought back by a second use")

	// A token in constant use ends at its absolute lifetime.
	t1 := c.now()
	tok, err = m.Issue(ctx, testSession(2))
	require.NoError(t, err)
	for at := 25 * time.Minute; at < ttl; at += 25 * time.Minute {
		c.advance(25 * time.Minute)
		rec = valid(tok, fmt.Sprintf("%s after issue, in constant use", at))
		require.False(t, rec.IdleExpiresAt.After(rec.ExpiresAt), "idle expiry past the absolute one")
	}
	require.Equal(t, t1.Add(ttl), stored(tok).IdleExpiresAt.UTC(), "the last renewal stops at the absolute end")
	c.advance(ttl - 100*time.Minute) // t1+2h
	_, err = m.Validate(ctx, tok)
	require.ErrorIs(t, err, session.ErrExpired, "a token in constant use past its TTL")
}

// testSlidingRevokeRace has goroutines use tokens of a Manager with an idle
// timeout, every tenth use renewing, while their token is revoked (Revoke, or
// RevokeAll when the store is a SubjectStore): a use that begins after the
// revocation returned is refused, and no renewal brings the record back.
func testSlidingRevokeRace(t *testing.T, s session.Store) {
	renewStore(t, s)
	_, subjects := s.(session.SubjectStore)
	const tokens, users = 12, 8
	ctx := t.Context()
	const idle = time.Hour
	// Each reading of the clock moves it by a hundredth of the idle
	// timeout, so that every tenth use of a token renews it, and a use that
	// read the record before ninety others renewed it still finds it alive.
	c := &clock{t: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC), step: idle / 100}
	m := session.NewManager(s, session.WithClock(c.now), session.WithTTL(session.MaxTTL), session.WithIdleTimeout(idle))
	require.NoError(t, m.Err())
	for n := range tokens { // one token at a time, so that no other token's uses run its clock out
		sess := testSession(n)
		subject := "user-" + sess.OpenID
		tok, err := m.Issue(ctx, sess, session.ForSubject(subject))
		require.NoError(t, err)
		var revoked atomic.Bool
		var renewals, running atomic.Int64
		var wg sync.WaitGroup
		running.Store(users)
		for range users {
			wg.Go(func() {
				defer running.Add(-1)
				for {
					after := revoked.Load()
					_, err := m.Validate(ctx, tok)
					if err != nil {
						// ErrExpired: a use whose record was read long
						// before its reading of the clock, which others
						// moved on meanwhile (a stall under -race).
						if !errors.Is(err, session.ErrExpired) {
							assert.ErrorIs(t, err, session.ErrInvalidToken, "a use racing a revocation")
						}
						return
					}
					renewals.Add(1)
					if !assert.False(t, after, "a use that began after the revocation returned was let through") {
						return
					}
				}
			})
		}
		for renewals.Load() < int64(n%4*users*10) && running.Load() > 0 {
			time.Sleep(100 * time.Microsecond)
		}
		if subjects && n%2 == 1 {
			require.NoError(t, m.RevokeAll(ctx, subject))
		} else {
			require.NoError(t, m.Revoke(ctx, tok))
		}
		revoked.Store(true)
		wg.Wait()
		got, err := s.Get(ctx, storeKey(tok))
		isNotFound(t, got, err, "the record of a revoked token, once its users stopped")
		_, err = m.Validate(ctx, tok)
		require.ErrorIs(t, err, session.ErrInvalidToken, "a revoked token")
	}
}
