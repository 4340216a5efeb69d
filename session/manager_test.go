package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// spyStore is a Store that records what it is given, and fails every call
// with err when err is set.
type spyStore struct {
	mu   sync.Mutex
	recs map[string]session.Record
	ttls map[string]time.Duration
	err  error
}

func newSpyStore() *spyStore {
	return &spyStore{recs: map[string]session.Record{}, ttls: map[string]time.Duration{}}
}

func (s *spyStore) Get(_ context.Context, key string) (*session.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	rec, ok := s.recs[key]
	if !ok {
		return nil, session.ErrNotFound
	}
	return &rec, nil
}

func (s *spyStore) Put(_ context.Context, key string, rec *session.Record, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.recs[key], s.ttls[key] = *rec, ttl
	return nil
}

func (s *spyStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	delete(s.recs, key)
	return nil
}

func (s *spyStore) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// errDown is what a store that cannot be reached returns.
var errDown = fmt.Errorf("spy: connection refused: %w", session.ErrStoreUnavailable)

func newManager(t testing.TB, store session.Store, opts ...session.Option) *session.Manager {
	t.Helper()
	m := session.NewManager(store, opts...)
	require.NoError(t, m.Err())
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func testSession() *wxauth.Session {
	return &wxauth.Session{OpenID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE", UnionID: "ocMvos6NjeKLIBqg5Mr9QjxrP1FA", SessionKey: testKey}
}

func TestIssueToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newSpyStore()
	clk := session.NewFakeClock()
	m := newManager(t, store, session.WithClock(clk.Now), session.WithTTL(time.Hour))

	seen := map[string]bool{}
	for range 100 {
		token, err := m.Issue(ctx, testSession())
		require.NoError(t, err)
		require.Len(t, token, session.TokenLen)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
		require.NoError(t, err, "unpadded base64url")
		require.Len(t, raw, 32)
		require.False(t, seen[token], "tokens are unique")
		seen[token] = true
	}

	token, err := m.Issue(ctx, testSession())
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	store.mu.Lock()
	rec, ok := store.recs[key]
	ttl := store.ttls[key]
	for k, r := range store.recs {
		assert.NotContains(t, k, token, "the store never sees the token")
		assert.NotContains(t, fmt.Sprint(r), token)
	}
	store.mu.Unlock()
	require.True(t, ok, "the record is stored under the hex SHA-256 of the token")
	assert.Equal(t, testKey, rec.SessionKey)
	assert.Equal(t, clk.Now(), rec.IssuedAt)
	assert.Equal(t, clk.Now().Add(time.Hour), rec.ExpiresAt)
	assert.Equal(t, time.Hour+session.ExpiredGrace, ttl, "the store keeps the record a little past expiry")
}

func TestIssueRefuses(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	long := strings.Repeat("x", 257)
	for name, s := range map[string]*wxauth.Session{
		"nil":              nil,
		"no openid":        {SessionKey: testKey},
		"long openid":      {OpenID: long, SessionKey: testKey},
		"long unionid":     {OpenID: "o", UnionID: long, SessionKey: testKey},
		"long session key": {OpenID: "o", SessionKey: long},
	} {
		token, err := m.Issue(context.Background(), s)
		require.Error(t, err, name)
		assert.Empty(t, token, name)
		assert.True(t, strings.HasPrefix(err.Error(), "session: issue: "), err.Error())
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := session.NewFakeClock()
	m := newManager(t, nil, session.WithClock(clk.Now), session.WithTTL(time.Hour))
	token, err := m.Issue(ctx, testSession())
	require.NoError(t, err)

	rec, err := m.Validate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, testSession().OpenID, rec.OpenID)
	assert.Equal(t, testSession().UnionID, rec.UnionID)
	assert.Equal(t, testKey, rec.SessionKey)
	rec.OpenID = "changed"
	rec, err = m.Validate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, testSession().OpenID, rec.OpenID, "each caller gets its own copy")

	other, err := m.Issue(ctx, testSession())
	require.NoError(t, err)

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", session.ErrInvalidToken},
		{"unknown", base64.RawURLEncoding.EncodeToString(make([]byte, 32)), session.ErrInvalidToken},
		{"one character short", token[:session.TokenLen-1], session.ErrInvalidToken},
		{"one character more", token + "A", session.ErrInvalidToken},
		{"padded", token + "=", session.ErrInvalidToken},
		{"standard base64 alphabet", "+" + token[1:], session.ErrInvalidToken},
		{"space inside", token[:20] + " " + token[21:], session.ErrInvalidToken},
		{"non-ASCII", "é" + token[2:], session.ErrInvalidToken},
		{"oversized", strings.Repeat("A", 1<<20), session.ErrInvalidToken},
		{"the record key instead of the token", func() string { s := sha256.Sum256([]byte(token)); return hex.EncodeToString(s[:]) }(), session.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := m.Validate(ctx, tt.token)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, rec)
			assert.NotContains(t, err.Error(), token)
		})
	}

	require.NoError(t, m.Revoke(ctx, other))
	_, err = m.Validate(ctx, other)
	require.ErrorIs(t, err, session.ErrInvalidToken, "a revoked token")
	require.NoError(t, m.Revoke(ctx, other), "revoking twice is fine")
	require.ErrorIs(t, m.Revoke(ctx, "not a token"), session.ErrInvalidToken)

	clk.Advance(time.Hour - time.Nanosecond)
	_, err = m.Validate(ctx, token)
	require.NoError(t, err, "valid until its expiry")
	clk.Advance(time.Nanosecond)
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, session.ErrExpired, "expired at ExpiresAt")
	require.NotErrorIs(t, err, session.ErrInvalidToken)
	clk.Advance(session.ExpiredGrace)
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, session.ErrInvalidToken, "forgotten after the grace")
}

func TestStoreDownIsNotInvalidToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newSpyStore()
	m := newManager(t, store)
	token, err := m.Issue(ctx, testSession())
	require.NoError(t, err)

	store.fail(errDown)
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, session.ErrStoreUnavailable)
	require.NotErrorIs(t, err, session.ErrInvalidToken)
	require.NotErrorIs(t, err, session.ErrExpired)
	assert.NotContains(t, err.Error(), token)

	_, err = m.Issue(ctx, testSession())
	require.ErrorIs(t, err, session.ErrStoreUnavailable)
	require.ErrorIs(t, m.Revoke(ctx, token), session.ErrStoreUnavailable)
}

func TestManagerOptionErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, opt := range map[string]session.Option{
		"zero ttl":          session.WithTTL(0),
		"sub-second ttl":    session.WithTTL(time.Millisecond),
		"ttl over max":      session.WithTTL(session.MaxTTL + time.Second),
		"nil clock":         session.WithClock(nil),
		"nil logger":        session.WithLogger(nil),
		"empty header":      session.WithTokenHeader(""),
		"bad header":        session.WithTokenHeader("X Token"),
		"empty cookie":      session.WithTokenCookie(""),
		"bad cookie":        session.WithTokenCookie("a;b"),
		"nil error handler": session.WithErrorHandler(nil),
	} {
		m := session.NewManager(nil, session.WithTTL(time.Hour), opt)
		require.Error(t, m.Err(), name)
		assert.True(t, strings.HasPrefix(m.Err().Error(), "session: "), m.Err().Error())
		_, err := m.Issue(ctx, testSession())
		require.ErrorIs(t, err, m.Err(), name)
		_, err = m.Validate(ctx, "x")
		require.ErrorIs(t, err, m.Err(), name)
		require.ErrorIs(t, m.Revoke(ctx, "x"), m.Err(), name)
		require.NoError(t, m.Close())
	}
	m := session.NewManager(nil, nil)
	require.NoError(t, m.Err(), "a nil option is skipped")
	assert.Equal(t, session.DefaultTTL, m.TTL())
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "Close is idempotent")
}

func TestCloseLeavesCallersStoreOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := session.NewMemoryStore()
	require.NoError(t, err)
	defer store.Close()
	m := session.NewManager(store)
	require.NoError(t, m.Close())
	token, err := m.Issue(ctx, testSession())
	require.NoError(t, err, "the caller's store still works after the Manager's Close")
	_, err = m.Validate(ctx, token)
	require.NoError(t, err)
}

// TestConcurrentIssueValidateRevoke is for the race detector: many
// goroutines issue, check and revoke tokens on one Manager.
func TestConcurrentIssueValidateRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, nil)
	shared, err := m.Issue(ctx, testSession())
	require.NoError(t, err)

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			s := &wxauth.Session{OpenID: fmt.Sprint("user-", g), SessionKey: testKey}
			for i := range 200 {
				token, err := m.Issue(ctx, s)
				if err != nil {
					t.Error(err)
					return
				}
				rec, err := m.Validate(ctx, token)
				if err != nil || rec.OpenID != s.OpenID {
					t.Errorf("validate own token: %v %v", rec, err)
					return
				}
				if _, err := m.Validate(ctx, shared); err != nil {
					t.Errorf("validate shared token: %v", err)
					return
				}
				if i%2 == 0 {
					if err := m.Revoke(ctx, token); err != nil {
						t.Error(err)
						return
					}
					if _, err := m.Validate(ctx, token); !errors.Is(err, session.ErrInvalidToken) {
						t.Errorf("revoked token: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
