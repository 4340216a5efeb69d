package tokenstoretest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
)

// MakeBackend sets up a fresh, empty backend of the store under test for
// the subtest t (a new key prefix, table or namespace, removed with
// t.Cleanup if need be) and returns newStore, which opens one more store
// instance on that backend: each call is another server of one fleet.
// newStore is called on t's goroutine, so it may fail t. MakeBackend is
// called from subtests that run in parallel.
type MakeBackend func(t *testing.T) (newStore func() wxauth.TokenStore)

// The appids the subtests use; each subtest has a backend of its own.
const (
	appID      = "wx0123456789abcdef"
	otherAppID = "wxfedcba9876543210"
)

// Durations of the subtests that wait for something to expire.
const (
	// shortTTL is the lock ttl of the subtests that let a lock expire.
	shortTTL = 50 * time.Millisecond
	// shortLife is the lifetime of the token that expires after it was
	// saved: long enough to load it back first on a slow machine.
	shortLife = 300 * time.Millisecond
	// longTTL is the lock ttl of the subtests that must not see it expire.
	longTTL = time.Minute
	// waitFor bounds every wait for an expiry; tick is how often it looks.
	waitFor = 5 * time.Second
	tick    = 5 * time.Millisecond
)

// Run checks the store that mb sets up against the contract of
// [wxauth.TokenStore] and [wxauth.TokenLease], in parallel subtests of t
// (see the package documentation for what it checks).
func Run(t *testing.T, mb MakeBackend) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, &fleet{newStore: mb(t)})
		})
	}
}

// fleet is a subtest's backend: it opens store instances on it.
type fleet struct{ newStore func() wxauth.TokenStore }

// instances returns n store instances on the backend.
func (f *fleet) instances(t *testing.T, n int) []wxauth.TokenStore {
	t.Helper()
	s := make([]wxauth.TokenStore, n)
	for i := range s {
		s[i] = f.newStore()
		require.NotNil(t, s[i], "newStore returned nil")
	}
	return s
}

// one returns one store instance on the backend.
func (f *fleet) one(t *testing.T) wxauth.TokenStore { return f.instances(t, 1)[0] }

// cases are Run's subtests.
var cases = []struct {
	name string
	run  func(t *testing.T, f *fleet)
}{
	{"LoadEmpty", testLoadEmpty},
	{"SaveLoadRoundTrip", testRoundTrip},
	{"NeverExpires", testNeverExpires},
	{"SaveReplaces", testSaveReplaces},
	{"AppIDsAreSeparate", testAppIDsSeparate},
	{"Delete", testDelete},
	{"SavedExpiredLoadsNil", testSavedExpired},
	{"TokenExpires", testTokenExpires},
	{"InvalidSave", testInvalidSave},
	{"TryLockExclusive", testTryLockExclusive},
	{"TryLockOneWinner", testTryLockOneWinner},
	{"TryLockPerAppID", testTryLockPerAppID},
	{"TryLockBadTTL", testTryLockBadTTL},
	{"UnlockReleases", testUnlockReleases},
	{"LeaseLostWhenReleased", testLostReleased},
	{"LeaseLostWhenExpired", testLostExpired},
	{"LeaseLostToNextHolder", testLostNextHolderSaved},
	{"StaleUnlockAfterExpiry", testStaleUnlockExpired},
	{"StaleUnlockAfterRelease", testStaleUnlockReleased},
	{"LeaseConcurrentUse", testLeaseConcurrentUse},
}

// ms is now as a whole number of milliseconds, the precision the suite
// expects a store to keep.
func ms() time.Time { return time.Now().Truncate(time.Millisecond) }

// lock takes appID's lock on s for ttl, failing t if it cannot.
func lock(t *testing.T, s wxauth.TokenStore, appID string, ttl time.Duration) wxauth.TokenLease {
	t.Helper()
	l, ok, err := s.TryLock(t.Context(), appID, ttl)
	require.NoError(t, err, "TryLock of a free lock")
	require.True(t, ok, "TryLock of a free lock must take it")
	require.NotNil(t, l, "TryLock returned ok and a nil lease")
	return l
}

// held checks that appID's lock is held: s cannot take it.
func held(t *testing.T, s wxauth.TokenStore, appID, msg string) {
	t.Helper()
	l, ok, err := s.TryLock(t.Context(), appID, longTTL)
	require.NoError(t, err, "TryLock of a held lock is not an error")
	require.False(t, ok, msg)
	require.Nil(t, l, "TryLock of a held lock returns a nil lease")
}

// save stores tok as appID's token through a lease of s, as a refresh does,
// and returns Save's error.
func save(t *testing.T, s wxauth.TokenStore, appID string, tok *wxauth.Token) error {
	t.Helper()
	l := lock(t, s, appID, longTTL)
	defer func() { require.NoError(t, l.Unlock(t.Context()), "Unlock") }()
	return l.Save(t.Context(), tok)
}

// load returns appID's token, failing t on an error.
func load(t *testing.T, s wxauth.TokenStore, appID string) *wxauth.Token {
	t.Helper()
	tok, err := s.Load(t.Context(), appID)
	require.NoError(t, err, "Load")
	return tok
}

// loads checks that appID's token on s is want: its AccessToken, or nil
// for "".
func loads(t *testing.T, s wxauth.TokenStore, appID, want, msg string) {
	t.Helper()
	got := load(t, s, appID)
	if want == "" {
		require.Nil(t, got, msg)
		return
	}
	require.NotNil(t, got, msg)
	require.Equal(t, want, got.AccessToken, msg)
}

// token returns a token valid for an hour.
func token(accessToken string) *wxauth.Token {
	now := ms()
	return &wxauth.Token{AccessToken: accessToken, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func testLoadEmpty(t *testing.T, f *fleet) {
	tok, err := f.one(t).Load(t.Context(), appID)
	require.NoError(t, err, "nothing stored is not an error")
	require.Nil(t, tok, "Load with nothing stored returns nil")
}

func testRoundTrip(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	now := ms()
	in := &wxauth.Token{AccessToken: "TOKEN_ONE_abcdef", IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(2 * time.Hour)}
	want := *in
	require.NoError(t, save(t, s[0], appID, in))
	in.AccessToken, in.ExpiresAt = "CHANGED_AFTER_SAVE", time.Time{} // the store keeps a copy
	for i, st := range s {
		got := load(t, st, appID)
		require.NotNil(t, got, "instance %d loads the saved token", i)
		assert.Equal(t, want.AccessToken, got.AccessToken, "instance %d", i)
		assert.True(t, want.IssuedAt.Equal(got.IssuedAt), "instance %d: IssuedAt %v, want %v", i, got.IssuedAt, want.IssuedAt)
		assert.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "instance %d: ExpiresAt %v, want %v", i, got.ExpiresAt, want.ExpiresAt)
		got.AccessToken = "CHANGED_AFTER_LOAD" // Load returns a copy
	}
	loads(t, s[1], appID, want.AccessToken, "neither the saved nor the loaded token is the store's own")
}

func testNeverExpires(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	require.NoError(t, save(t, s[0], appID, &wxauth.Token{AccessToken: "NEVER_EXPIRES_xyz"}))
	got := load(t, s[1], appID)
	require.NotNil(t, got, "a token with a zero ExpiresAt never expires")
	assert.Equal(t, "NEVER_EXPIRES_xyz", got.AccessToken)
	assert.True(t, got.ExpiresAt.IsZero(), "a zero ExpiresAt loads as zero, got %v", got.ExpiresAt)
	assert.True(t, got.IssuedAt.IsZero(), "a zero IssuedAt loads as zero, got %v", got.IssuedAt)
}

func testSaveReplaces(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	require.NoError(t, save(t, s[0], appID, token("TOKEN_ONE_abcdef")))
	require.NoError(t, save(t, s[1], appID, &wxauth.Token{AccessToken: "TOKEN_TWO_ghijkl"}))
	got := load(t, s[0], appID)
	require.NotNil(t, got)
	assert.Equal(t, "TOKEN_TWO_ghijkl", got.AccessToken, "Save replaces the token")
	assert.True(t, got.ExpiresAt.IsZero(), "nothing of the replaced token is left")
	assert.True(t, got.IssuedAt.IsZero(), "nothing of the replaced token is left")
}

func testAppIDsSeparate(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	require.NoError(t, save(t, s[0], appID, token("TOKEN_OF_APP_ONE")))
	loads(t, s[1], otherAppID, "", "an appid with nothing stored next to one with a token")
	require.NoError(t, save(t, s[1], otherAppID, token("TOKEN_OF_APP_TWO")))
	loads(t, s[1], appID, "TOKEN_OF_APP_ONE", "tokens are keyed by appid")
	loads(t, s[0], otherAppID, "TOKEN_OF_APP_TWO", "tokens are keyed by appid")

	require.NoError(t, s[0].Delete(t.Context(), otherAppID, "TOKEN_OF_APP_ONE"))
	loads(t, s[1], otherAppID, "TOKEN_OF_APP_TWO", "Delete names a token of another appid: a no-op")
	require.NoError(t, s[0].Delete(t.Context(), appID, "TOKEN_OF_APP_ONE"))
	loads(t, s[0], appID, "", "Delete of the current token removes it")
	loads(t, s[1], otherAppID, "TOKEN_OF_APP_TWO", "Delete leaves the other appid's token")
}

func testDelete(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	require.NoError(t, s[0].Delete(t.Context(), appID, "NOTHING_STORED"), "Delete with nothing stored is not an error")
	require.NoError(t, save(t, s[0], appID, token("TOKEN_ONE_abcdef")))
	require.NoError(t, s[1].Delete(t.Context(), appID, "TOKEN_ZERO_older"))
	loads(t, s[0], appID, "TOKEN_ONE_abcdef", "Delete of another token is a no-op")
	require.NoError(t, s[1].Delete(t.Context(), appID, "TOKEN_ONE_abcdef"))
	loads(t, s[0], appID, "", "Delete of the current token removes it")
}

func testSavedExpired(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	require.NoError(t, save(t, s[0], appID, token("TOKEN_ONE_abcdef")))
	now := ms()
	require.NoError(t, save(t, s[0], appID, &wxauth.Token{AccessToken: "EXPIRED_TOKEN_xyz",
		IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Second)}))
	loads(t, s[1], appID, "", "an expired token loads as nil, and it replaced the one before")
}

func testTokenExpires(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	exp := ms().Add(shortLife)
	require.NoError(t, save(t, s[0], appID, &wxauth.Token{AccessToken: "SHORT_LIVED_abc", ExpiresAt: exp}))
	tok := load(t, s[1], appID)
	if time.Now().Before(exp) { // else this machine was too slow to see it
		require.NotNil(t, tok, "a token loads until its ExpiresAt")
	}
	require.Eventually(t, func() bool {
		tok, err := s[1].Load(t.Context(), appID)
		return err == nil && tok == nil
	}, waitFor, tick, "a token loads as nil once its ExpiresAt has passed")
}

func testInvalidSave(t *testing.T, f *fleet) {
	s := f.one(t)
	l := lock(t, s, appID, longTTL)
	for _, tok := range []*wxauth.Token{nil, {}, {ExpiresAt: ms().Add(time.Hour)}} {
		err := l.Save(t.Context(), tok)
		require.Error(t, err, "Save(%v) must fail", tok)
		require.NotErrorIs(t, err, wxauth.ErrLeaseLost, "the lease still holds: the token is what is wrong")
		loads(t, s, appID, "", "a refused Save stores nothing")
	}
	require.NoError(t, l.Save(t.Context(), token("TOKEN_ONE_abcdef")), "the lease still saves after a refused Save")
	loads(t, s, appID, "TOKEN_ONE_abcdef", "")
	require.NoError(t, l.Unlock(t.Context()))
}

func testTryLockExclusive(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	l := lock(t, s[0], appID, longTTL)
	held(t, s[1], appID, "another instance cannot take a held lock")
	held(t, s[0], appID, "the same instance cannot take a held lock again")
	require.NoError(t, l.Unlock(t.Context()))
}

func testTryLockOneWinner(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	const perInstance = 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		winners  []wxauth.TokenLease
		failures []string
	)
	ctx := t.Context()
	start := make(chan struct{})
	for i := range 2 * perInstance {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			l, ok, err := s[i%2].TryLock(ctx, appID, longTTL)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failures = append(failures, "TryLock: "+err.Error())
			case ok && l == nil:
				failures = append(failures, "TryLock returned ok and a nil lease")
			case ok:
				winners = append(winners, l)
			case l != nil:
				failures = append(failures, "TryLock returned not ok and a lease")
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Empty(t, failures)
	require.Len(t, winners, 1, "of %d concurrent TryLocks on two instances, exactly one takes the lock", 2*perInstance)
	require.NoError(t, winners[0].Unlock(t.Context()))
}

func testTryLockPerAppID(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	l := lock(t, s[0], appID, longTTL)
	l2 := lock(t, s[1], otherAppID, longTTL) // locks are per appid
	require.NoError(t, l2.Save(t.Context(), token("TOKEN_OF_APP_TWO")), "a lease of one appid saves while another's is held")
	require.NoError(t, l2.Unlock(t.Context()))
	held(t, s[1], appID, "unlocking one appid leaves another's lock")
	require.NoError(t, l.Unlock(t.Context()))
}

func testTryLockBadTTL(t *testing.T, f *fleet) {
	s := f.one(t)
	for _, ttl := range []time.Duration{0, -time.Second} {
		l, ok, err := s.TryLock(t.Context(), appID, ttl)
		require.Error(t, err, "TryLock with ttl %v", ttl)
		require.False(t, ok, "TryLock with ttl %v", ttl)
		require.Nil(t, l, "TryLock with ttl %v", ttl)
	}
	require.NoError(t, lock(t, s, appID, longTTL).Unlock(t.Context()), "a refused TryLock took no lock")
}

func testUnlockReleases(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	l := lock(t, s[0], appID, longTTL)
	require.NoError(t, l.Unlock(t.Context()))
	l2 := lock(t, s[1], appID, longTTL) // Unlock released it
	require.NoError(t, l2.Unlock(t.Context()))
	require.NoError(t, lock(t, s[0], appID, longTTL).Unlock(t.Context()))
}

// lateSave checks that a, a lease that lost its lock, cannot Save, and
// that the store still holds want afterwards.
func lateSave(t *testing.T, s wxauth.TokenStore, a wxauth.TokenLease, want string) {
	t.Helper()
	now := ms()
	err := a.Save(t.Context(), &wxauth.Token{AccessToken: "LATE_FROM_A", IssuedAt: now.Add(-time.Second), ExpiresAt: now.Add(2 * time.Hour)})
	require.Error(t, err, "Save by a lease that lost its lock")
	require.ErrorIs(t, err, wxauth.ErrLeaseLost, "Save by a lease that lost its lock")
	loads(t, s, appID, want, "a lease that lost its lock stored nothing")
}

// oldThenLease stores OLD_TOKEN and returns a lease of s's that expires
// after ttl: instance A starting a slow refresh.
func oldThenLease(t *testing.T, s wxauth.TokenStore, ttl time.Duration) wxauth.TokenLease {
	t.Helper()
	require.NoError(t, save(t, s, appID, token("OLD_TOKEN")))
	return lock(t, s, appID, ttl)
}

// takeOver waits until s takes appID's lock, which a lease of shortTTL
// held, and returns the new lease.
func takeOver(t *testing.T, s wxauth.TokenStore) wxauth.TokenLease {
	t.Helper()
	var l wxauth.TokenLease
	require.Eventually(t, func() bool {
		var ok bool
		var err error
		l, ok, err = s.TryLock(t.Context(), appID, longTTL)
		return err == nil && ok && l != nil
	}, waitFor, tick, "a lock expires by itself after its ttl")
	return l
}

func testLostReleased(t *testing.T, f *fleet) {
	s := f.one(t)
	a := oldThenLease(t, s, longTTL)
	require.NoError(t, a.Unlock(t.Context()))
	lateSave(t, s, a, "OLD_TOKEN")
}

func testLostExpired(t *testing.T, f *fleet) {
	s := f.one(t)
	a := oldThenLease(t, s, shortTTL)
	time.Sleep(2 * shortTTL) // the lock expires; nobody takes it
	lateSave(t, s, a, "OLD_TOKEN")
}

func testLostNextHolderSaved(t *testing.T, f *fleet) {
	s := f.instances(t, 2)
	a := oldThenLease(t, s[0], shortTTL)
	b := takeOver(t, s[1]) // instance B takes the expired lock
	require.NoError(t, b.Save(t.Context(), token("NEWER_FROM_B")))
	lateSave(t, s[0], a, "NEWER_FROM_B")
	require.NoError(t, b.Unlock(t.Context()))
	lateSave(t, s[1], a, "NEWER_FROM_B")
}

func testStaleUnlockExpired(t *testing.T, f *fleet) {
	s := f.instances(t, 3)
	a := lock(t, s[0], appID, shortTTL)
	b := takeOver(t, s[1])
	require.NoError(t, a.Unlock(t.Context()), "Unlock of an expired lease is not an error")
	held(t, s[2], appID, "the expired lease's Unlock did not release the next holder's lock")
	require.NoError(t, b.Save(t.Context(), token("NEWER_FROM_B")), "the next holder still holds its lock")
	require.NoError(t, b.Unlock(t.Context()))
	require.NoError(t, lock(t, s[2], appID, longTTL).Unlock(t.Context()))
}

func testStaleUnlockReleased(t *testing.T, f *fleet) {
	s := f.instances(t, 3)
	a := lock(t, s[0], appID, longTTL)
	require.NoError(t, a.Unlock(t.Context()))
	b := lock(t, s[1], appID, longTTL)
	require.NoError(t, a.Unlock(t.Context()), "a second Unlock is not an error")
	held(t, s[2], appID, "a released lease's second Unlock did not release the next holder's lock")
	require.NoError(t, b.Save(t.Context(), token("NEWER_FROM_B")), "the next holder still holds its lock")
	require.NoError(t, b.Unlock(t.Context()))
}

func testLeaseConcurrentUse(t *testing.T, f *fleet) {
	s := f.one(t)
	l := lock(t, s, appID, longTTL)
	const n = 8
	ctx := t.Context()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.Save(ctx, token(fmt.Sprintf("CONCURRENT_TOKEN_%d", i)))
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...), "concurrent Saves through one held lease")
	got := load(t, s, appID)
	require.NotNil(t, got)
	assert.Regexp(t, `^CONCURRENT_TOKEN_\d$`, got.AccessToken, "one of the saved tokens")
	require.NoError(t, l.Unlock(t.Context()))
}
