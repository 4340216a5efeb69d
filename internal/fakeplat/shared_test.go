package fakeplat_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/fakeplat"
)

// clock is a manual clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestSettings(t *testing.T) {
	type config struct{ fakeplat.Settings }
	type option func(*config) error
	c := config{fakeplat.Settings{Name: "fake", Now: time.Now}}
	now := func() time.Time { return time.Unix(1, 0) }
	require.NoError(t, fakeplat.Apply(&c, []option{
		func(c *config) error { return c.SetClock(now) },
		nil,
		func(c *config) error { return c.SetLatency(time.Second) },
		func(c *config) error { return c.SetRateLimit(3) },
	}))
	assert.Equal(t, time.Unix(1, 0), c.Now())
	assert.Equal(t, time.Second, c.Latency)
	assert.Equal(t, 3, c.RateLimit)
	for _, tt := range []struct {
		o    option
		want string
	}{
		{func(c *config) error { return c.SetClock(nil) }, "fake: clock must not be nil"},
		{func(c *config) error { return c.SetLatency(-1) }, "fake: latency must not be negative"},
		{func(c *config) error { return c.SetRateLimit(0) }, "fake: rate limit must be positive"},
	} {
		assert.EqualError(t, fakeplat.Apply(&c, []option{tt.o}), tt.want)
	}
	assert.Equal(t, 3, c.RateLimit, "a refused option changes nothing")
	assert.EqualError(t, fakeplat.CheckApp("fake", "appID", "secret", "a", ""), "fake: appID and secret must not be empty")
	assert.NoError(t, fakeplat.CheckApp("fake", "appID", "secret", "a", "s"))
}

type testUser struct {
	ID   string
	Nick string
}

var (
	errUnknown  = errors.New("unknown")
	errNotLogIn = errors.New("not logged in")
)

func newUsers(c *clock, limit int) *fakeplat.Users[testUser] {
	return fakeplat.NewUsers(fakeplat.UsersConfig[testUser]{
		Settings:   fakeplat.Settings{Name: "fake", Now: c.Now, RateLimit: limit},
		ErrUnknown: errUnknown, ErrNotLoggedIn: errNotLogIn,
		Fill: func(u testUser) (string, testUser) {
			if u.ID == "" {
				u.ID = fakeplat.RandomString(8, fakeplat.Hex)
			}
			if u.Nick == "" {
				u.Nick = "nick"
			}
			return u.ID, u
		},
		Blank:   func(id string) testUser { return testUser{ID: id} },
		CodeTTL: 5 * time.Minute,
	})
}

func TestUsers(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	us := newUsers(c, 0)
	id := us.Add(testUser{})
	assert.Len(t, id, 8)
	u, ok := us.Get(id)
	require.True(t, ok)
	assert.Equal(t, "nick", u.Nick, "defaults filled")
	_, _, err := us.LoggedIn(id)
	assert.ErrorIs(t, err, errNotLogIn)
	assert.EqualError(t, err, fmt.Sprintf("fake: openid %q: not logged in", id))
	_, _, err = us.LoggedIn("nobody")
	assert.ErrorIs(t, err, errUnknown)

	code := us.Login(id)
	assert.Len(t, code, 32)
	_, key, err := us.LoggedIn(id)
	require.NoError(t, err)
	assert.Len(t, key, 24, "base64 of 16 bytes")
	// Replacing the user keeps the session_key.
	us.Add(testUser{ID: id, Nick: "new"})
	u, key2, err := us.LoggedIn(id)
	require.NoError(t, err)
	assert.Equal(t, "new", u.Nick)
	assert.Equal(t, key, key2)

	pu, pk, st := us.Peek(code)
	assert.Equal(t, fakeplat.CodeOK, st)
	assert.Equal(t, id, pu.ID)
	assert.Equal(t, key, pk)
	eu, ek, st := us.Exchange(code)
	assert.Equal(t, fakeplat.CodeOK, st)
	assert.Equal(t, "new", eu.Nick)
	assert.Equal(t, key, ek)
	_, _, st = us.Exchange(code)
	assert.Equal(t, fakeplat.CodeUsed, st, "single use")
	_, _, st = us.Peek(code)
	assert.Equal(t, fakeplat.CodeUsed, st)

	// A code is valid for CodeTTL.
	old := us.Login(id)
	c.Advance(5 * time.Minute)
	_, _, st = us.Exchange(old)
	assert.Equal(t, fakeplat.CodeUnknown, st, "expired")

	// Login registers an unknown id, or a random one for "".
	_, _, err = us.LoggedIn("bob")
	require.ErrorIs(t, err, errUnknown)
	_, _, st = us.Exchange(us.Login("bob"))
	assert.Equal(t, fakeplat.CodeOK, st)
	u, _, st = us.Exchange(us.Login(""))
	assert.Equal(t, fakeplat.CodeOK, st)
	assert.Len(t, u.ID, 8)
	assert.Equal(t, "nick", u.Nick)
}

func TestUsersRateLimit(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	us := newUsers(c, 2)
	id := us.Add(testUser{})
	for range 2 {
		_, _, st := us.Exchange(us.Login(id))
		require.Equal(t, fakeplat.CodeOK, st)
	}
	code := us.Login(id)
	_, _, st := us.Exchange(code)
	assert.Equal(t, fakeplat.CodeLimited, st)
	// Another user is not limited.
	_, _, st = us.Exchange(us.Login(""))
	assert.Equal(t, fakeplat.CodeOK, st)
	// A minute on, the refused code (not used up) works.
	c.Advance(time.Minute)
	_, _, st = us.Exchange(code)
	assert.Equal(t, fakeplat.CodeOK, st)
}

// TestUsersConcurrentExchange: of many goroutines exchanging one code,
// exactly one gets it.
func TestUsersConcurrentExchange(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	us := newUsers(c, 1000)
	code := us.Login("")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, st := us.Exchange(code); st == fakeplat.CodeOK {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, ok)
}

func TestCodesReportExpired(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	cs := fakeplat.NewCodes(time.Minute, c.Now).ReportExpired()
	a := cs.IssueOf("alice", 64, fakeplat.Hex)
	assert.Len(t, a, 64)
	assert.Empty(t, strings.Trim(a, fakeplat.Hex))
	c.Advance(time.Minute)
	s, st := cs.Take(a)
	assert.Equal(t, fakeplat.CodeExpired, st)
	assert.Equal(t, "alice", s)
	// A lifetime later it is forgotten.
	c.Advance(time.Minute)
	cs.Issue("bob", 32) // sweeps
	_, st = cs.Peek(a)
	assert.Equal(t, fakeplat.CodeUnknown, st)
}

func TestTokens(t *testing.T) {
	const ttl = time.Hour
	tests := []struct {
		name   string
		policy fakeplat.TokenPolicy
		// after a second fetch a minute on: is the first valid, and at
		// the first's own expiry?
		firstValid, firstAtExpiry fakeplat.TokenState
		same                      bool
	}{
		{name: "retire at once", policy: fakeplat.TokenPolicy{},
			firstValid: fakeplat.TokenUnknown, firstAtExpiry: fakeplat.TokenUnknown},
		{name: "grace", policy: fakeplat.TokenPolicy{Grace: 5 * time.Minute},
			firstValid: fakeplat.TokenOK, firstAtExpiry: fakeplat.TokenExpired},
		{name: "keep all", policy: fakeplat.TokenPolicy{Grace: fakeplat.KeepAll},
			firstValid: fakeplat.TokenOK, firstAtExpiry: fakeplat.TokenExpired},
		{name: "reuse", policy: fakeplat.TokenPolicy{Reuse: true},
			firstValid: fakeplat.TokenOK, firstAtExpiry: fakeplat.TokenExpired, same: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{now: time.Unix(1e9, 0)}
			p := tt.policy
			p.TTL, p.Prefix, p.Len, p.Alphabet = ttl, "t.", 20, fakeplat.Hex
			ts := fakeplat.NewTokens(p, c.Now)
			assert.Empty(t, ts.Current())
			assert.Equal(t, fakeplat.TokenMissing, ts.Check(""))
			first, life := ts.Issue()
			assert.Equal(t, ttl, life)
			assert.True(t, strings.HasPrefix(first, "t.") && len(first) == 22, first)
			assert.Equal(t, fakeplat.TokenOK, ts.Check(first))
			c.Advance(time.Minute)
			second, life := ts.Issue()
			assert.Equal(t, tt.same, first == second)
			if tt.same {
				assert.Equal(t, ttl-time.Minute, life, "the time it has left")
				assert.Equal(t, 1, ts.Issued())
			} else {
				assert.Equal(t, ttl, life)
				assert.Equal(t, 2, ts.Issued())
			}
			assert.Equal(t, second, ts.Current())
			assert.Equal(t, fakeplat.TokenOK, ts.Check(second))
			assert.Equal(t, tt.firstValid, ts.Check(first))
			if tt.policy.Grace > 0 {
				c.Advance(tt.policy.Grace)
				assert.Equal(t, fakeplat.TokenExpired, ts.Check(first), "grace over")
				assert.Equal(t, fakeplat.TokenOK, ts.Check(second))
				c.Advance(-tt.policy.Grace)
			}
			c.Advance(ttl - time.Minute)
			assert.Equal(t, tt.firstAtExpiry, ts.Check(first))
			assert.Equal(t, fakeplat.TokenUnknown, ts.Check("t.never"))
			ts.Revoke()
			assert.Empty(t, ts.Current())
			assert.Equal(t, fakeplat.TokenUnknown, ts.Check(second), "revoked")
			third, _ := ts.Issue()
			assert.NotEqual(t, second, third)
		})
	}
}

// TestTokensGraceEndsAtExpiry: the previous token keeps its grace, or
// less if it expires first; a third fetch retires the first.
func TestTokensGraceEndsAtExpiry(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	ts := fakeplat.NewTokens(fakeplat.TokenPolicy{TTL: time.Hour, Grace: 5 * time.Minute, Len: 8, Alphabet: fakeplat.Hex}, c.Now)
	first, _ := ts.Issue()
	c.Advance(time.Hour - time.Minute)
	second, _ := ts.Issue()
	c.Advance(time.Minute)
	assert.Equal(t, fakeplat.TokenExpired, ts.Check(first), "its own expiry comes before the grace ends")
	third, _ := ts.Issue()
	assert.Equal(t, fakeplat.TokenUnknown, ts.Check(first))
	assert.Equal(t, fakeplat.TokenOK, ts.Check(second))
	assert.Equal(t, fakeplat.TokenOK, ts.Check(third))
}

func TestSeal(t *testing.T) {
	key := fakeplat.RandomKey(16)
	data, iv, err := fakeplat.Seal(key, []byte(`{"a":1}`))
	require.NoError(t, err)
	plain, err := crypto.Decrypt(key, data, iv)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":1}`, string(plain))
	_, _, err = fakeplat.Seal("short", nil)
	assert.Error(t, err)
}

func TestFailStatus(t *testing.T) {
	c, err := fakeplat.Start(fakeplat.Config{Endpoints: map[string]fakeplat.Endpoint{
		"/a": {Method: http.MethodGet, Handle: func(*fakeplat.Request) fakeplat.Reply { return fakeplat.Reply{Body: 1} }},
	}})
	require.NoError(t, err)
	defer c.Close()
	assert.EqualError(t, c.FailStatus("fake", "/a", 200), "fake: FailNextStatus: status must be 300 to 599, got 200")
	assert.EqualError(t, c.FailStatus("fake", "/b", 500), `fake: no endpoint at "/b"`)
	require.NoError(t, c.FailStatus("fake", "/a", 503))
	resp, err := http.Get(c.URL + "/a")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestRandomString(t *testing.T) {
	seen := map[byte]int{}
	for range 200 {
		for _, b := range []byte(fakeplat.RandomString(50, "abc")) {
			seen[b]++
		}
	}
	require.Len(t, seen, 3)
	for b, n := range seen {
		// 10000 draws of three: each near 3333; far outside 3000-3666
		// would be a biased or broken draw.
		assert.InDelta(t, 3333, n, 333, "%c", b)
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		id, secret string
		want       fakeplat.CredState
	}{
		{"app", "secret", fakeplat.CredOK},
		{"", "secret", fakeplat.CredNoID},
		{"", "", fakeplat.CredNoID},
		{"other", "secret", fakeplat.CredBadID},
		{"other", "", fakeplat.CredBadID},
		{"app", "", fakeplat.CredNoSecret},
		{"app", "secreT", fakeplat.CredBadSecret},
		{"app", "secret2", fakeplat.CredBadSecret},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, fakeplat.Credentials(tt.id, tt.secret, "app", "secret"), "%q %q", tt.id, tt.secret)
	}
}

func TestErrText(t *testing.T) {
	texts := map[int64]string{40029: "invalid code"}
	assert.Equal(t, "invalid code", fakeplat.ErrText(texts, 40029))
	assert.Equal(t, "injected error", fakeplat.ErrText(texts, 1))
}
