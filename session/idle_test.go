package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
)

// countingStore counts the writes of a MemoryStore, and fails its Renews
// with renewErr when that is set.
type countingStore struct {
	*session.MemoryStore
	puts, renews atomic.Int64
	renewErr     error
}

func newCountingStore(t *testing.T, clock func() time.Time) *countingStore {
	t.Helper()
	ms, err := session.NewMemoryStore(session.WithMemoryClock(clock))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ms.Close() })
	return &countingStore{MemoryStore: ms}
}

func (s *countingStore) Put(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	s.puts.Add(1)
	return s.MemoryStore.Put(ctx, key, rec, ttl)
}

func (s *countingStore) Renew(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	s.renews.Add(1)
	if s.renewErr != nil {
		return s.renewErr
	}
	return s.MemoryStore.Renew(ctx, key, rec, ttl)
}

func TestWithIdleTimeoutRefuses(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{-time.Minute, 0, session.MinIdleTimeout - 1, session.MaxTTL + 1} {
		m := session.NewManager(nil, session.WithIdleTimeout(d))
		assert.Error(t, m.Err(), "idle timeout %s", d)
		_, err := m.Issue(context.Background(), testSession())
		assert.Error(t, err)
	}
	for _, d := range []time.Duration{session.MinIdleTimeout, 30 * time.Minute, session.MaxTTL} {
		m := session.NewManager(nil, session.WithIdleTimeout(d))
		assert.NoError(t, m.Err(), "idle timeout %s", d)
		_ = m.Close()
	}
}

// TestIdleTimeoutNeedsRenewStore checks that a Manager with an idle timeout
// on a store that cannot renew in place fails at construction, not at the
// first renewal.
func TestIdleTimeoutNeedsRenewStore(t *testing.T) {
	t.Parallel()
	m := session.NewManager(newSpyStore(), session.WithIdleTimeout(time.Hour))
	require.ErrorIs(t, m.Err(), session.ErrRenewUnsupported)
	require.ErrorIs(t, m.Err(), errors.ErrUnsupported)
	assert.Contains(t, m.Err().Error(), "spyStore")
	_, err := m.Validate(context.Background(), "x")
	require.ErrorIs(t, err, session.ErrRenewUnsupported)
	// Without the option the same store is fine.
	newManager(t, newSpyStore())
}

// TestIdleRenewalWrites counts the store writes that renewal adds to 1,000
// requests of one token, at one request a second and one every ten, with
// an idle timeout of 30 minutes: a write each 3 minutes of use at most.
func TestIdleRenewalWrites(t *testing.T) {
	t.Parallel()
	const idle = 30 * time.Minute
	for _, tc := range []struct {
		every time.Duration
		want  int64
	}{
		{time.Second, 5},            // 1,000 s of use: renewed at 180, 360, 540, 720, 900 s
		{10 * time.Second, 55},      // 10,000 s: every 180 s
		{10 * time.Minute, 1000},    // each use is over a tenth of d after the last: each renews
		{100 * time.Millisecond, 0}, // 100 s of use: under a tenth of d, no write
	} {
		t.Run(tc.every.String(), func(t *testing.T) {
			t.Parallel()
			clk := session.NewFakeClock()
			store := newCountingStore(t, clk.Now)
			m := newManager(t, store, session.WithClock(clk.Now), session.WithTTL(session.MaxTTL), session.WithIdleTimeout(idle))
			token, err := m.Issue(context.Background(), testSession())
			require.NoError(t, err)
			for i := range 1000 {
				clk.Advance(tc.every)
				_, err := m.Validate(context.Background(), token)
				require.NoError(t, err, "request %d", i)
			}
			assert.Equal(t, int64(1), store.puts.Load(), "Puts: the issue only")
			assert.Equal(t, tc.want, store.renews.Load(), "renewal writes per 1,000 requests, one every %s", tc.every)
			t.Logf("one request every %s: %d renewal writes per 1,000 requests", tc.every, store.renews.Load())
		})
	}
}

func TestIdleRenewalFailure(t *testing.T) {
	t.Parallel()
	clk := session.NewFakeClock()
	store := newCountingStore(t, clk.Now)
	m := newManager(t, store, session.WithClock(clk.Now), session.WithIdleTimeout(time.Hour))
	token, err := m.Issue(context.Background(), testSession())
	require.NoError(t, err)

	// A renewal the store fails leaves the token as it was: the request goes on.
	store.renewErr = fmt.Errorf("down: %w", session.ErrStoreUnavailable)
	clk.Advance(30 * time.Minute)
	rec, err := m.Validate(context.Background(), token)
	require.NoError(t, err, "a failed renewal refuses nothing")
	assert.Equal(t, session.NewFakeClock().Now().Add(time.Hour), rec.IdleExpiresAt.UTC(), "not renewed")

	// A renewal that finds the record gone (revoked since the read) refuses.
	store.renewErr = session.ErrNotFound
	_, err = m.Validate(context.Background(), token)
	require.ErrorIs(t, err, session.ErrInvalidToken)
}

// TestIdleTimeoutLegacyRecord checks that a record issued before the idle
// timeout was set (no IdleExpiresAt) is valid, and gets one at its first
// use.
func TestIdleTimeoutLegacyRecord(t *testing.T) {
	t.Parallel()
	clk := session.NewFakeClock()
	store := newCountingStore(t, clk.Now)
	old := newManager(t, store, session.WithClock(clk.Now))
	token, err := old.Issue(context.Background(), testSession())
	require.NoError(t, err)
	m := newManager(t, store, session.WithClock(clk.Now), session.WithIdleTimeout(time.Hour))
	clk.Advance(2 * time.Hour)
	rec, err := m.Validate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(time.Hour), rec.IdleExpiresAt)
	clk.Advance(time.Hour)
	_, err = m.Validate(context.Background(), token)
	require.ErrorIs(t, err, session.ErrExpired)
}

func TestRecordCheck(t *testing.T) {
	t.Parallel()
	errDB := errors.New("users db: connection refused")
	for _, tc := range []struct {
		name   string
		check  error
		status int
		code   string
		errIs  error
	}{
		{"pass", nil, http.StatusOK, "", nil},
		{"refused", session.ErrLoginRefused, http.StatusForbidden, session.CodeLoginRefused, session.ErrLoginRefused},
		{"refused wrapped", fmt.Errorf("user 42 banned: %w", session.ErrLoginRefused), http.StatusForbidden, session.CodeLoginRefused, session.ErrLoginRefused},
		{"cannot decide", errDB, http.StatusServiceUnavailable, session.CodeStoreUnavailable, session.ErrRecordCheck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen atomic.Pointer[session.Record]
			var cleared atomic.Bool // the user is let through again
			var handled []string
			m := newManager(t, nil,
				session.WithRecordCheck(func(ctx context.Context, rec *session.Record) error {
					seen.Store(rec)
					if cleared.Load() {
						return nil
					}
					return tc.check
				}),
				session.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *session.HTTPError) {
					handled = append(handled, e.Code)
					session.WriteError(w, r, e)
				}))
			token, err := m.Issue(context.Background(), testSession(), session.ForSubject("42"))
			require.NoError(t, err)

			_, err = m.Validate(context.Background(), token)
			if tc.errIs == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.errIs)
				assert.NotErrorIs(t, err, session.ErrInvalidToken)
				assert.NotContains(t, err.Error(), token)
			}
			require.NotNil(t, seen.Load())
			assert.Equal(t, "42", seen.Load().Subject, "the check sees the record")

			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code)
			if tc.code != "" {
				assert.Contains(t, w.Body.String(), `"error":"`+tc.code+`"`)
				assert.Equal(t, []string{tc.code}, handled, "through the Manager's error handler")
			}
			_, e := m.Authenticate(r)
			if tc.status == http.StatusOK {
				assert.Nil(t, e)
			} else {
				require.NotNil(t, e)
				assert.Equal(t, tc.status, e.Status, "Authenticate")
			}
			// The check revokes nothing: once it passes, the token does.
			cleared.Store(true)
			_, err = m.Validate(context.Background(), token)
			assert.NoError(t, err, "the token after the check passes again")
		})
	}
}

func TestRecordCheckOnHandlers(t *testing.T) {
	t.Parallel()
	var refuse atomic.Bool
	m := newManager(t, nil, session.WithRecordCheck(func(ctx context.Context, rec *session.Record) error {
		if refuse.Load() {
			return fmt.Errorf("banned: %w", session.ErrLoginRefused)
		}
		return nil
	}))
	token, err := m.Issue(context.Background(), testSession(), session.ForSubject("42"))
	require.NoError(t, err)
	refuse.Store(true)
	post := func(h http.Handler) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(w, r)
		return w
	}
	w := post(session.LogoutAllHandler(m))
	assert.Equal(t, http.StatusForbidden, w.Code, "logout everywhere validates the token")
	assert.Contains(t, w.Body.String(), session.CodeLoginRefused)
	w = post(m.RequireSubject(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Contains(t, w.Body.String(), session.CodeLoginRefused)
	w = post(session.LogoutHandler(m))
	assert.Equal(t, http.StatusNoContent, w.Code, "a refused user may log out")
	_, err = m.Validate(context.Background(), token)
	require.ErrorIs(t, err, session.ErrInvalidToken)
}

func TestRequireSubject(t *testing.T) {
	t.Parallel()
	var handled []string
	store := newCountingGets(t)
	m := newManager(t, store, session.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *session.HTTPError) {
		handled = append(handled, e.Code)
		session.WriteError(w, r, e)
	}))
	bound, err := m.Issue(context.Background(), testSession(), session.ForSubject("42"))
	require.NoError(t, err)
	unbound, err := m.Issue(context.Background(), testSession())
	require.NoError(t, err)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := session.FromContext(r.Context())
		if assert.True(t, ok, "the record reaches next") {
			_, _ = w.Write([]byte(rec.Subject))
		}
	})
	for _, tc := range []struct {
		name   string
		h      http.Handler
		token  string
		status int
		body   string
		gets   int64
	}{
		{"alone, registered", m.RequireSubject(next), bound, http.StatusOK, "42", 1},
		{"alone, not registered", m.RequireSubject(next), unbound, http.StatusForbidden, `{"error":"not_registered"`, 1},
		{"alone, no token", m.RequireSubject(next), "", http.StatusUnauthorized, `{"error":"invalid_token"`, 0},
		{"behind the middleware, registered", m.Middleware(m.RequireSubject(next)), bound, http.StatusOK, "42", 1},
		{"behind the middleware, not registered", m.Middleware(m.RequireSubject(next)), unbound, http.StatusForbidden, `{"error":"not_registered"`, 1},
	} {
		handled = nil
		store.gets.Store(0)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.token != "" {
			r.Header.Set("Authorization", "Bearer "+tc.token)
		}
		tc.h.ServeHTTP(w, r)
		assert.Equal(t, tc.status, w.Code, tc.name)
		assert.Contains(t, w.Body.String(), tc.body, tc.name)
		assert.Equal(t, tc.gets, store.gets.Load(), "%s: the token is read once", tc.name)
		if tc.status != http.StatusOK {
			assert.Len(t, handled, 1, "%s: through the Manager's error handler", tc.name)
		}
	}
	w := httptest.NewRecorder()
	m.RequireSubject(nil).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusInternalServerError, w.Code, "nil next")
}

// countingGets counts the Gets of a MemoryStore.
type countingGets struct {
	*session.MemoryStore
	gets atomic.Int64
}

func newCountingGets(t *testing.T) *countingGets {
	t.Helper()
	ms, err := session.NewMemoryStore()
	require.NoError(t, err)
	t.Cleanup(func() { _ = ms.Close() })
	return &countingGets{MemoryStore: ms}
}

func (s *countingGets) Get(ctx context.Context, key string) (*session.Record, error) {
	s.gets.Add(1)
	return s.MemoryStore.Get(ctx, key)
}

func TestAfterIssue(t *testing.T) {
	t.Parallel()
	var seen []session.Record
	m := newManager(t, nil, session.WithAfterIssue(func(ctx context.Context, rec *session.Record) {
		seen = append(seen, *rec)
		rec.Subject = "changed" // its own copy
	}))
	token, err := m.Issue(context.Background(), testSession(), session.ForSubject("42"))
	require.NoError(t, err)
	require.Len(t, seen, 1)
	assert.Equal(t, "42", seen[0].Subject)
	assert.Equal(t, testSession().OpenID, seen[0].OpenID)
	assert.NotContains(t, fmt.Sprintf("%+v", seen[0]), token)
	rec, err := m.Validate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, "42", rec.Subject, "the hook cannot change the stored record")

	assert.Error(t, session.NewManager(nil, session.WithAfterIssue(nil)).Err())
	assert.Error(t, session.NewManager(nil, session.WithRecordCheck(nil)).Err())
}
