package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
)

// shortTTL is the TTL of the records the suite waits to expire, and
// expireWait how long it waits at most.
const (
	shortTTL   = 50 * time.Millisecond
	expireWait = 3 * time.Second
)

// Run checks the stores newStore returns against the contract of
// [session.Store], in parallel subtests of t. newStore is called once per
// subtest and must return a new, empty store that shares no records with the
// stores of other calls; it may fail its t, and should register with
// t.Cleanup what closes the store. See the package documentation for what is
// checked.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	if newStore == nil {
		t.Fatal("storetest: newStore is nil")
	}
	for _, st := range []struct {
		name string
		test func(*testing.T, session.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"PutStoresCopy", testPutStoresCopy},
		{"PutReplaces", testPutReplaces},
		{"Delete", testDelete},
		{"Expires", testExpires},
		{"PutRefuses", testPutRefuses},
		{"Concurrent", testConcurrent},
		{"DeleteSubject", testDeleteSubject},
		{"DeleteSubjectConcurrent", testDeleteSubjectConcurrent},
		{"Renew", testRenew},
		{"RenewRefuses", testRenewRefuses},
		{"RenewAfterDelete", testRenewAfterDelete},
		{"RenewKeepsIndex", testRenewKeepsIndex},
		{"RenewRace", testRenewRace},
		{"SlidingSession", testSlidingSession},
		{"SlidingRevokeRace", testSlidingRevokeRace},
		{"Take", testTake},
		{"TakeConcurrent", testTakeConcurrent},
	} {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if s == nil {
				t.Fatal("storetest: newStore returned a nil store")
			}
			st.test(t, s)
		})
	}
}

// newKey returns a key as [session.Manager] makes them: 64 hex characters,
// random so that no two subtests or runs share one.
func newKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newRecord returns a record with every field set, each to a value of its
// own for n. Its times have nanoseconds and a zone other than UTC.
func newRecord(n int) *session.Record {
	issued := time.Date(2025, 3, 4, 5, 6, 7, 891_011_121, time.FixedZone("UTC+8", 8*60*60)).
		Add(time.Duration(n) * time.Second)
	return &session.Record{
		OpenID:        fmt.Sprintf("oGZUI0egBJY1zhBYw2KhdUf-%d", n),
		UnionID:       fmt.Sprintf("ocMvos6NjeKLIBqg5Mr9Qjx-%d", n),
		SessionKey:    fmt.Sprintf("tiihtNczf5v6AKRyjwEU-%d==", n),
		IssuedAt:      issued,
		ExpiresAt:     issued.Add(7 * 24 * time.Hour),
		IdleExpiresAt: issued.Add(30 * time.Minute),
	}
}

// sameRecord reports, through assert, whether got has every field of want.
// It is safe to call from any goroutine.
func sameRecord(t *testing.T, want, got *session.Record, msg string) bool {
	t.Helper()
	if !assert.NotNil(t, got, "%s: Get returned a nil record and a nil error", msg) {
		return false
	}
	ok := assert.Equal(t, want.OpenID, got.OpenID, "%s: OpenID", msg)
	ok = assert.Equal(t, want.UnionID, got.UnionID, "%s: UnionID", msg) && ok
	ok = assert.Equal(t, want.SessionKey, got.SessionKey, "%s: SessionKey", msg) && ok
	ok = assert.WithinDuration(t, want.IssuedAt, got.IssuedAt, 0, "%s: IssuedAt", msg) && ok
	ok = assert.WithinDuration(t, want.ExpiresAt, got.ExpiresAt, 0, "%s: ExpiresAt", msg) && ok
	ok = assert.WithinDuration(t, want.IdleExpiresAt, got.IdleExpiresAt, 0, "%s: IdleExpiresAt", msg) && ok
	return ok
}

// requireRecord requires that s holds want under key.
func requireRecord(t *testing.T, s session.Store, key string, want *session.Record, msg string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	require.NoError(t, err, msg)
	if !sameRecord(t, want, got, msg) {
		t.FailNow()
	}
}

// isNotFound reports, through assert, whether err and rec are what Get
// returns for a key that holds nothing. It is safe to call from any
// goroutine.
func isNotFound(t *testing.T, rec *session.Record, err error, msg string) bool {
	t.Helper()
	ok := assert.ErrorIs(t, err, session.ErrNotFound, msg)
	ok = assert.NotErrorIs(t, err, session.ErrStoreUnavailable, msg) && ok
	return assert.Nil(t, rec, "%s: Get returned a record with ErrNotFound", msg) && ok
}

// requireNotFound requires that s holds nothing under key.
func requireNotFound(t *testing.T, s session.Store, key, msg string) {
	t.Helper()
	rec, err := s.Get(t.Context(), key)
	if !isNotFound(t, rec, err, msg) {
		t.FailNow()
	}
}

func requirePut(t *testing.T, s session.Store, key string, rec *session.Record, ttl time.Duration) {
	t.Helper()
	require.NoError(t, s.Put(t.Context(), key, rec, ttl), "Put")
}

func testGetMissing(t *testing.T, s session.Store) {
	requireNotFound(t, s, newKey(), "Get of a key never stored")
}

func testPutGet(t *testing.T, s session.Store) {
	full, minimal := newKey(), newKey()
	longest := newKey() + strings.Repeat("k", session.MaxKeyLen-64)
	short := newKey()[:1]
	recs := map[string]*session.Record{
		full:      newRecord(1),
		minimal:   {OpenID: "o-only-openid"}, // no UnionID, no session_key, zero times
		longest:   newRecord(2),
		short:     newRecord(3),
		full[:63]: newRecord(4), // a prefix of another key is a key of its own
	}
	for k, rec := range recs {
		requirePut(t, s, k, rec, time.Hour)
	}
	for k, rec := range recs {
		requireRecord(t, s, k, rec, fmt.Sprintf("Get of a %d-byte key after Put", len(k)))
	}
}

func testGetReturnsCopy(t *testing.T, s session.Store) {
	key := newKey()
	requirePut(t, s, key, newRecord(1), time.Hour)
	got, err := s.Get(t.Context(), key)
	require.NoError(t, err)
	require.NotNil(t, got)
	*got = *newRecord(2)
	requireRecord(t, s, key, newRecord(1), "changing what Get returned changed the stored record")
}

func testPutStoresCopy(t *testing.T, s session.Store) {
	key := newKey()
	rec := newRecord(1)
	requirePut(t, s, key, rec, time.Hour)
	*rec = *newRecord(2)
	requireRecord(t, s, key, newRecord(1), "changing the record after Put changed the stored one")
}

func testPutReplaces(t *testing.T, s session.Store) {
	key := newKey()
	requirePut(t, s, key, newRecord(1), time.Hour)
	requirePut(t, s, key, newRecord(2), 2*time.Hour)
	requireRecord(t, s, key, newRecord(2), "Get after a second Put under the same key")
	requirePut(t, s, key, &session.Record{OpenID: "o-only-openid"}, time.Hour)
	requireRecord(t, s, key, &session.Record{OpenID: "o-only-openid"},
		"Get after a Put of a record with fewer fields: no field of the one before may remain")
}

func testDelete(t *testing.T, s session.Store) {
	ctx := t.Context()
	gone, kept := newKey(), newKey()
	requirePut(t, s, gone, newRecord(1), time.Hour)
	requirePut(t, s, kept, newRecord(2), time.Hour)
	require.NoError(t, s.Delete(ctx, gone), "Delete")
	requireNotFound(t, s, gone, "Get after Delete")
	requireRecord(t, s, kept, newRecord(2), "Delete removed the record under another key")
	require.NoError(t, s.Delete(ctx, gone), "Delete of a key already deleted")
	require.NoError(t, s.Delete(ctx, newKey()), "Delete of a key never stored")
	requirePut(t, s, gone, newRecord(3), time.Hour)
	requireRecord(t, s, gone, newRecord(3), "Put after Delete")
}

func testExpires(t *testing.T, s session.Store) {
	ctx := t.Context()
	lengthened, shortened, short, long := newKey(), newKey(), newKey(), newKey()
	requirePut(t, s, lengthened, newRecord(1), shortTTL)
	requirePut(t, s, lengthened, newRecord(1), time.Hour) // Put replaces the TTL...
	requirePut(t, s, shortened, newRecord(2), time.Hour)
	requirePut(t, s, shortened, newRecord(2), shortTTL) // ...either way
	requirePut(t, s, short, newRecord(3), shortTTL)
	requirePut(t, s, long, newRecord(4), time.Hour)

	for _, key := range []string{short, shortened} {
		var rec *session.Record
		var err error
		expired := func() bool {
			rec, err = s.Get(ctx, key)
			return err != nil
		}
		if !assert.Eventually(t, expired, expireWait, 10*time.Millisecond,
			"a record Put with a TTL of %s is still there after %s", shortTTL, expireWait) {
			continue
		}
		isNotFound(t, rec, err, "Get of an expired record")
	}
	requireRecord(t, s, long, newRecord(4), "a record with a TTL of an hour is gone after 50 ms")
	requireRecord(t, s, lengthened, newRecord(1), "a second Put under a key did not replace its TTL")
}

func testPutRefuses(t *testing.T, s session.Store) {
	ctx := t.Context()
	kept := newKey()
	requirePut(t, s, kept, newRecord(1), time.Hour)
	tooLong := strings.Repeat("k", session.MaxKeyLen+1)
	tests := []struct {
		name string
		keys []string
		rec  *session.Record
		ttl  time.Duration
	}{
		{"empty key", []string{""}, newRecord(2), time.Hour},
		{"key over MaxKeyLen", []string{tooLong}, newRecord(2), time.Hour},
		{"nil record", []string{newKey(), kept}, nil, time.Hour},
		{"zero ttl", []string{newKey(), kept}, newRecord(2), 0},
		{"negative ttl", []string{newKey(), kept}, newRecord(2), -time.Second},
		{"record without openid", []string{newKey(), kept}, &session.Record{SessionKey: "k", ExpiresAt: time.Now().Add(time.Hour)}, time.Hour},
		{"field over 256 bytes", []string{newKey(), kept}, &session.Record{OpenID: "o1", UnionID: strings.Repeat("u", 257)}, time.Hour},
	}
	for _, tt := range tests {
		for _, key := range tt.keys {
			require.Error(t, session.CheckPut(key, tt.rec, tt.ttl), "the suite's own case %q", tt.name)
			err := s.Put(ctx, key, tt.rec, tt.ttl)
			if assert.Error(t, err, "Put accepted a %s", tt.name) {
				assert.NotErrorIs(t, err, session.ErrStoreUnavailable, "a %s is not an outage", tt.name)
			}
			if key != kept {
				requireNotFound(t, s, key, "Get after a refused Put: "+tt.name)
			}
		}
	}
	requireRecord(t, s, kept, newRecord(1), "a refused Put changed the record already under its key")
}

// testConcurrent has goroutines Put, Get and Delete records on keys of
// their own and on keys they share.
func testConcurrent(t *testing.T, s session.Store) {
	const goroutines, rounds = 8, 40
	ctx := t.Context()
	shared := []string{newKey(), newKey(), newKey()}
	// sharedRecord is what goroutine g writes under shared[i] in round r:
	// OpenID tells the key, SessionKey repeats UnionID, ExpiresAt is
	// IssuedAt plus an hour, so that a mix of two records shows.
	sharedRecord := func(i, g, r int) *session.Record {
		who := fmt.Sprintf("%d-%d", g, r)
		issued := time.Unix(int64(g*rounds+r), 0)
		return &session.Record{OpenID: fmt.Sprint("shared-", i), UnionID: who, SessionKey: "sk-" + who,
			IssuedAt: issued, ExpiresAt: issued.Add(time.Hour)}
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			own := newKey()
			for r := range rounds {
				want := newRecord(g*rounds + r)
				if !assert.NoError(t, s.Put(ctx, own, want, time.Hour)) {
					return
				}
				got, err := s.Get(ctx, own)
				if !assert.NoError(t, err) || !sameRecord(t, want, got, "Get of a key only this goroutine writes") {
					return
				}

				i := (g + r) % len(shared)
				if !assert.NoError(t, s.Put(ctx, shared[i], sharedRecord(i, g, r), time.Hour)) {
					return
				}
				got, err = s.Get(ctx, shared[i])
				if err != nil {
					if !isNotFound(t, got, err, "Get of a shared key") {
						return
					}
				} else if !assert.NotNil(t, got) ||
					!assert.Equal(t, fmt.Sprint("shared-", i), got.OpenID, "a record came back under another key") ||
					!assert.Equal(t, "sk-"+got.UnionID, got.SessionKey, "a record mixes two") ||
					!assert.WithinDuration(t, got.IssuedAt.Add(time.Hour), got.ExpiresAt, 0, "a record mixes two") {
					return
				}
				if r%4 == 0 && !assert.NoError(t, s.Delete(ctx, shared[i])) {
					return
				}
			}
			if assert.NoError(t, s.Delete(ctx, own)) {
				rec, err := s.Get(ctx, own)
				isNotFound(t, rec, err, "Get of a deleted key")
			}
		})
	}
	wg.Wait()
}

// subjectStore returns s as a [session.SubjectStore], or skips t when it is
// not one.
func subjectStore(t *testing.T, s session.Store) session.SubjectStore {
	t.Helper()
	ss, ok := s.(session.SubjectStore)
	if !ok {
		t.Skipf("storetest: %T is not a session.SubjectStore: Manager.RevokeAll fails with ErrRevokeAllUnsupported on it", s)
	}
	return ss
}

// ownedRecord returns newRecord(n) with the given subject and openid.
func ownedRecord(subject, openID string, n int) *session.Record {
	r := newRecord(n)
	r.Subject, r.OpenID = subject, openID
	return r
}

func testDeleteSubject(t *testing.T, s session.Store) {
	ss := subjectStore(t, s)
	ctx := t.Context()
	subject, other := "user-"+newKey()[:12], "user-"+newKey()[:12]
	gone := map[string]*session.Record{
		newKey(): ownedRecord(subject, "oA-"+subject, 1), // the subject's sessions on two openids
		newKey(): ownedRecord(subject, "oB-"+subject, 2),
		newKey(): ownedRecord("", subject, 3), // unbound: ended by its openid
	}
	kept := map[string]*session.Record{
		newKey(): ownedRecord(other, "oA-"+subject, 4), // another subject on the same openid
		newKey(): ownedRecord(other, subject, 5),       // bound to another subject: not ended by its openid
		newKey(): ownedRecord("", "oC-"+subject, 6),    // another unbound openid
	}
	for k, rec := range gone {
		requirePut(t, s, k, rec, time.Hour)
	}
	for k, rec := range kept {
		requirePut(t, s, k, rec, time.Hour)
	}
	// Sessions of an openid from before it was bound to the subject (a
	// silent login, then a phone bind): the subject's DeleteSubject ends
	// them, whether Put before or after the bound one.
	preBind, postBind := newKey(), newKey()
	requirePut(t, s, preBind, ownedRecord("", "oP-"+subject, 11), time.Hour)
	requirePut(t, s, newKey(), ownedRecord(subject, "oP-"+subject, 12), time.Hour)
	requirePut(t, s, postBind, ownedRecord("", "oP-"+subject, 13), time.Hour)
	gone[preBind], gone[postBind] = ownedRecord("", "oP-"+subject, 11), ownedRecord("", "oP-"+subject, 13)
	moved := newKey() // replaced by another owner's record: no longer the subject's
	requirePut(t, s, moved, ownedRecord(subject, "oD-"+subject, 7), time.Hour)
	requirePut(t, s, moved, ownedRecord(other, "oD-"+subject, 8), time.Hour)
	kept[moved] = ownedRecord(other, "oD-"+subject, 8)
	deleted := newKey() // deleted before: DeleteSubject must not mind
	requirePut(t, s, deleted, ownedRecord(subject, "oE-"+subject, 9), time.Hour)
	require.NoError(t, s.Delete(ctx, deleted))

	require.NoError(t, ss.DeleteSubject(ctx, subject), "DeleteSubject")
	for k, rec := range gone {
		requireNotFound(t, s, k, fmt.Sprintf("Get after DeleteSubject(%q) of a record with Subject %q, OpenID %q",
			subject, rec.Subject, rec.OpenID))
	}
	for k, rec := range kept {
		requireRecord(t, s, k, rec, fmt.Sprintf("DeleteSubject(%q) removed a record with Subject %q, OpenID %q",
			subject, rec.Subject, rec.OpenID))
	}
	require.NoError(t, ss.DeleteSubject(ctx, subject), "DeleteSubject of a subject that holds nothing any more")
	require.NoError(t, ss.DeleteSubject(ctx, "never-"+newKey()), "DeleteSubject of a subject never stored")

	again := newKey()
	requirePut(t, s, again, ownedRecord(subject, "oA-"+subject, 10), time.Hour)
	requireRecord(t, s, again, ownedRecord(subject, "oA-"+subject, 10), "Put for a subject after DeleteSubject")
	require.NoError(t, ss.DeleteSubject(ctx, subject))
	requireNotFound(t, s, again, "Get after a second DeleteSubject")
	for k, rec := range kept {
		requireRecord(t, s, k, rec, "a second DeleteSubject removed another owner's record")
	}
}

// testDeleteSubjectConcurrent has goroutines Put records of two subjects
// they share and delete those subjects, while each also keeps a record of an
// owner of its own that nobody deletes.
func testDeleteSubjectConcurrent(t *testing.T, s session.Store) {
	ss := subjectStore(t, s)
	const goroutines, rounds = 8, 20
	ctx := t.Context()
	run := newKey()[:12]
	subjects := []string{"shared-a-" + run, "shared-b-" + run}
	bystanders := make([]string, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		bystanders[g] = newKey()
		wg.Go(func() {
			subject := subjects[g%len(subjects)]
			bystander := ownedRecord(fmt.Sprint("bystander-", g, "-", run), fmt.Sprint("o-", g), g)
			for r := range rounds {
				n := g*rounds + r
				own := []string{newKey(), newKey()}
				for i, k := range own {
					if !assert.NoError(t, s.Put(ctx, k, ownedRecord(subject, fmt.Sprint("o-", g, "-", i), n), time.Hour)) {
						return
					}
				}
				// The same key each round: a Put that replaces a record.
				if !assert.NoError(t, s.Put(ctx, bystanders[g], bystander, time.Hour)) {
					return
				}
				for _, k := range own {
					got, err := s.Get(ctx, k)
					if err != nil {
						// A concurrent DeleteSubject, or a bound on records
						// per subject, may have removed it.
						if !isNotFound(t, got, err, "Get of a record of a shared subject") {
							return
						}
					} else if !assert.NotNil(t, got) || !assert.Equal(t, subject, got.Subject, "a record came back under another key") {
						return
					}
				}
				if !assert.NoError(t, ss.DeleteSubject(ctx, subject)) {
					return
				}
				for _, k := range own {
					rec, err := s.Get(ctx, k)
					if !isNotFound(t, rec, err, "Get of a record Put before DeleteSubject, after it returned") {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for g, k := range bystanders {
		requireRecord(t, s, k, ownedRecord(fmt.Sprint("bystander-", g, "-", run), fmt.Sprint("o-", g), g),
			"DeleteSubject of other subjects removed a record")
	}
}

// takeStore returns s as a [session.TakeStore], or skips t when it is not
// one.
func takeStore(t *testing.T, s session.Store) session.TakeStore {
	t.Helper()
	ts, ok := s.(session.TakeStore)
	if !ok {
		t.Skipf("storetest: %T is not a session.TakeStore: two phone binds with one token may both win on it", s)
	}
	return ts
}

func testTake(t *testing.T, s session.Store) {
	ts := takeStore(t, s)
	ctx := t.Context()
	rec, err := ts.Take(ctx, newKey())
	isNotFound(t, rec, err, "Take of a key never stored")

	key, want := newKey(), ownedRecord("user-"+newKey()[:12], "o-take", 1)
	requirePut(t, s, key, want, time.Hour)
	got, err := ts.Take(ctx, key)
	require.NoError(t, err, "Take")
	sameRecord(t, want, got, "Take returns the record Put")
	requireNotFound(t, s, key, "Get after Take")
	rec, err = ts.Take(ctx, key)
	isNotFound(t, rec, err, "a second Take")

	// Put back (as PhoneHandler does when a bind fails) and ended by its
	// owner: the record taken left the index, the one put back is in it.
	requirePut(t, s, key, got, time.Hour)
	requireRecord(t, s, key, want, "a record put back after Take")
	if ss, ok := s.(session.SubjectStore); ok {
		require.NoError(t, ss.DeleteSubject(ctx, want.Subject))
		requireNotFound(t, s, key, "DeleteSubject of a record put back after Take")
	}

	short := newKey()
	requirePut(t, s, short, newRecord(2), shortTTL)
	time.Sleep(2 * shortTTL)
	rec, err = ts.Take(ctx, short)
	isNotFound(t, rec, err, "Take of a record past its TTL")
}

// testTakeConcurrent has 8 goroutines Take one key at once, 50 times: one
// gets the record each time, the others ErrNotFound.
func testTakeConcurrent(t *testing.T, s session.Store) {
	ts := takeStore(t, s)
	ctx := t.Context()
	const goroutines, rounds = 8, 50
	for r := range rounds {
		key := newKey()
		requirePut(t, s, key, newRecord(r), time.Hour)
		start := make(chan struct{})
		var won sync.Map
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				<-start
				rec, err := ts.Take(ctx, key)
				if err == nil {
					won.Store(g, rec)
					return
				}
				isNotFound(t, rec, err, "a Take that lost the race")
			})
		}
		close(start)
		wg.Wait()
		n := 0
		won.Range(func(_, v any) bool {
			n++
			sameRecord(t, newRecord(r), v.(*session.Record), "the record the winning Take got")
			return true
		})
		require.Equal(t, 1, n, "Takes of one key that got its record, of %d at once", goroutines)
	}
}
