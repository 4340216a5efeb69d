package wxauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
	"github.com/wxmp/miniauth/internal/wxmock"
)

func TestAccessTokenCached(t *testing.T) {
	t.Parallel()
	a, up, _, _ := testApp(t)
	ctx := context.Background()
	for range 100 {
		tok, err := a.AccessToken(ctx)
		require.NoError(t, err)
		assert.Equal(t, wxmock.Token(1), tok)
	}
	assert.Equal(t, 1, up.Fetches(), "100 calls, one upstream request")
}

func TestStableTokenRequest(t *testing.T) {
	t.Parallel()
	a, up, _, _ := testApp(t)
	_, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	req, body := up.Last()
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/cgi-bin/stable_token", req.URL.Path)
	assert.Empty(t, req.URL.RawQuery, "no secret in the URL")
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, map[string]any{"grant_type": "client_credential", "appid": testAppID,
		"secret": testSecret, "force_refresh": false}, got)
}

func TestClassicTokenRequest(t *testing.T) {
	t.Parallel()
	a, up, _, _ := testApp(t, WithClassicToken())
	tok, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, wxmock.Token(1), tok)
	req, _ := up.Last()
	assert.Equal(t, http.MethodGet, req.Method)
	assert.Equal(t, "/cgi-bin/token", req.URL.Path)
	q := req.URL.Query()
	assert.Equal(t, "client_credential", q.Get("grant_type"))
	assert.Equal(t, testAppID, q.Get("appid"))
	assert.Equal(t, testSecret, q.Get("secret"))
}

func TestAccessTokenRefreshMargin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expiresIn int
		margin    time.Duration
	}{
		{7200, 5*time.Minute - 10*time.Second}, // capped inside stable_token's renewal window
		{1200, 4 * time.Minute},                // a fifth
		{300, time.Minute},                     // stable_token's shortest
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.expiresIn), func(t *testing.T) {
			t.Parallel()
			a, up, clk, _ := testApp(t)
			up.SetExpiresIn(tt.expiresIn)
			ctx := context.Background()
			_, err := a.AccessToken(ctx)
			require.NoError(t, err)
			life := time.Duration(tt.expiresIn) * time.Second

			clk.Advance(life - tt.margin - time.Second) // not due yet
			tok, err := a.AccessToken(ctx)
			require.NoError(t, err)
			assert.Equal(t, wxmock.Token(1), tok)
			waitRefresh(a)
			assert.Equal(t, 1, up.Fetches())

			clk.Advance(2 * time.Second) // due, still valid: old token now, new one in the background
			tok, err = a.AccessToken(ctx)
			require.NoError(t, err)
			assert.Equal(t, wxmock.Token(1), tok)
			waitRefresh(a)
			assert.Equal(t, 2, up.Fetches())
			tok, err = a.AccessToken(ctx)
			require.NoError(t, err)
			assert.Equal(t, wxmock.Token(2), tok)

			clk.Advance(life + time.Second) // expired: the caller waits for the new one
			tok, err = a.AccessToken(ctx)
			require.NoError(t, err)
			assert.Equal(t, wxmock.Token(3), tok)
			assert.Equal(t, 3, up.Fetches())
		})
	}
}

func TestAccessTokenThousandCallersOneRequest(t *testing.T) {
	t.Parallel()
	a, up, clk, _ := testApp(t)
	ctx := context.Background()
	_, err := a.AccessToken(ctx)
	require.NoError(t, err)
	clk.Advance(3 * time.Hour) // expired

	release := up.Hold() // every caller arrives while the one fetch is in flight
	const n = 1000
	var wg sync.WaitGroup
	var started sync.WaitGroup
	started.Add(n)
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			got[i], errs[i] = a.AccessToken(ctx)
		}()
	}
	started.Wait()
	release()
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, wxmock.Token(2), got[i])
	}
	assert.Equal(t, 2, up.Fetches(), "one request to prime, exactly one for 1,000 callers at expiry")
	t.Logf("1,000 goroutines at expiry: %d upstream token request(s)", up.Fetches()-1)
}

func TestAccessTokenContextEndsWhileWaiting(t *testing.T) {
	t.Parallel()
	a, up, _, _ := testApp(t)
	release := up.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := a.AccessToken(ctx)
		done <- err
	}()
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, strings.HasPrefix(err.Error(), "wxauth: "), err.Error())

	// The refresh goes on without the caller and serves the next one.
	dctx, dcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer dcancel()
	_, err = a.AccessToken(dctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	release()
	tok, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, wxmock.Token(1), tok)
	assert.Equal(t, 1, up.Fetches())
}

func TestAccessTokenFetchErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		is   error
	}{
		{"bad secret", `{"errcode":40125,"errmsg":"invalid appsecret rid: 6f"}`, ErrInvalidCredential},
		{"bad appid", `{"errcode":40013,"errmsg":"invalid appid"}`, ErrInvalidCredential},
		{"no token", `{"expires_in":7200}`, ErrBadResponse},
		{"token with space", `{"access_token":"a b c d e f g h","expires_in":7200}`, ErrBadResponse},
		{"no expiry", `{"access_token":"ACCESS_TOKEN_XYZ"}`, ErrBadResponse},
		{"negative expiry", `{"access_token":"ACCESS_TOKEN_XYZ","expires_in":-5}`, ErrBadResponse},
		{"not json", `<html>`, ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			mt.RegisterResponder(http.MethodPost, wxmock.Base+"/cgi-bin/stable_token",
				func(*http.Request) (*http.Response, error) { return wxmock.JSON(tt.body), nil })
			a, err := New(testAppID, testSecret, WithHTTPClient(&http.Client{Transport: mt}))
			require.NoError(t, err)
			for range 2 { // a failure is not cached
				_, err = a.AccessToken(context.Background())
				require.ErrorIs(t, err, tt.is)
				assert.NotContains(t, err.Error(), testSecret)
			}
			assert.Equal(t, 2, mt.GetTotalCallCount())
		})
	}
}

func TestAccessTokenServerErrorRetried(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var calls atomic.Int32
	mt.RegisterResponder(http.MethodPost, wxmock.Base+"/cgi-bin/stable_token", func(*http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			return httpmock.NewStringResponse(http.StatusBadGateway, "bad gateway"), nil
		}
		return wxmock.JSON(`{"access_token":"ACCESS_TOKEN_XYZ","expires_in":7200}`), nil
	})
	a, err := New(testAppID, testSecret, WithHTTPClient(&http.Client{Transport: mt}), WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	tok, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ACCESS_TOKEN_XYZ", tok)
	assert.Equal(t, int32(2), calls.Load())
}

func TestBackgroundRefreshFailureKeepsValidToken(t *testing.T) {
	t.Parallel()
	a, up, clk, logs := testApp(t, WithRetry(0))
	ctx := context.Background()
	_, err := a.AccessToken(ctx)
	require.NoError(t, err)
	up.SetTokenError(`{"errcode":-1,"errmsg":"busy"}`)
	clk.Advance(7200*time.Second - time.Minute) // due, still valid
	for range 5 {
		tok, err := a.AccessToken(ctx)
		require.NoError(t, err)
		assert.Equal(t, wxmock.Token(1), tok)
		waitRefresh(a)
	}
	// One failed refresh, then a pause before the next background attempt.
	assert.Equal(t, 2, up.Fetches())
	assert.Contains(t, logs.String(), "access token refresh failed")
}

func TestTokenRefusedIsInvalidatedAndRetriedOnce(t *testing.T) {
	t.Parallel()
	for _, code := range []int{40001, 40014, 42001} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			a, up, _, _ := testApp(t)
			var calls atomic.Int32
			up.Transport().RegisterResponder(http.MethodGet, wxmock.Base+"/wxa/checksession", func(r *http.Request) (*http.Response, error) {
				calls.Add(1)
				if r.URL.Query().Get("access_token") == wxmock.Token(1) {
					return wxmock.JSON(fmt.Sprintf(`{"errcode":%d,"errmsg":"token refused"}`, code)), nil
				}
				return wxmock.JSON(`{"errcode":0,"errmsg":"ok"}`), nil
			})
			require.NoError(t, a.CheckSessionKey(context.Background(), "oUser1", testKey))
			assert.Equal(t, int32(2), calls.Load())
			assert.Equal(t, 2, up.Fetches())
			tok, err := a.AccessToken(context.Background())
			require.NoError(t, err)
			assert.Equal(t, wxmock.Token(2), tok)
		})
	}
}

func TestTokenRefusedTwiceNoLoop(t *testing.T) {
	t.Parallel()
	a, up, _, _ := testApp(t)
	calls, _ := replyWith(t, up, http.MethodGet, "/wxa/checksession", `{"errcode":40001,"errmsg":"invalid credential"}`)
	err := a.CheckSessionKey(context.Background(), "oUser1", testKey)
	require.ErrorIs(t, err, ErrInvalidCredential)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 40001, ae.Code)
	assert.Equal(t, int32(2), calls.Load(), "one retry, no more")
	assert.Equal(t, 2, up.Fetches())
}

func TestTokenRefusedSameTokenAgainNotRetried(t *testing.T) {
	t.Parallel()
	a, up, _, _ := testApp(t)
	up.SetSameToken(true) // stable_token normal mode hands out the refused token again
	calls, _ := replyWith(t, up, http.MethodGet, "/wxa/checksession", `{"errcode":42001,"errmsg":"access_token expired"}`)
	err := a.CheckSessionKey(context.Background(), "oUser1", testKey)
	require.ErrorIs(t, err, ErrInvalidCredential)
	assert.Equal(t, int32(1), calls.Load(), "the same token is not tried twice")
	assert.Equal(t, 2, up.Fetches())
}

func TestTokenRefusedThenFetchFails(t *testing.T) {
	t.Parallel()
	a, up, _, _ := testApp(t)
	_, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	up.Revoke(wxmock.Token(1))
	up.SetTokenError(`{"errcode":40125,"errmsg":"invalid appsecret"}`)
	err = a.CheckSessionKey(context.Background(), "oUser1", testKey)
	require.ErrorIs(t, err, ErrInvalidCredential)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 40001, ae.Code, "the API's refusal comes first")
	assert.Contains(t, err.Error(), "40125")
}

// TestInvalidateOnlyTheTokenUsed: a call that used token 1 is refused after
// another goroutine already fetched token 2; token 2 must survive.
func TestInvalidateOnlyTheTokenUsed(t *testing.T) {
	t.Parallel()
	a, up, clk, _ := testApp(t)
	ctx := context.Background()
	arrived := make(chan struct{})
	release := make(chan struct{})
	up.Transport().RegisterResponder(http.MethodGet, wxmock.Base+"/wxa/checksession", func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("access_token") == wxmock.Token(1) {
			close(arrived)
			<-release
			return wxmock.JSON(`{"errcode":40001,"errmsg":"invalid credential"}`), nil
		}
		return wxmock.JSON(`{"errcode":0,"errmsg":"ok"}`), nil
	})
	_, err := a.AccessToken(ctx)
	require.NoError(t, err)

	done := make(chan error)
	go func() { done <- a.CheckSessionKey(ctx, "oUser1", testKey) }()
	<-arrived
	clk.Advance(3 * time.Hour)
	tok, err := a.AccessToken(ctx) // another goroutine fetches token 2
	require.NoError(t, err)
	require.Equal(t, wxmock.Token(2), tok)
	close(release)
	require.NoError(t, <-done, "retried with token 2")

	tok, err = a.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, wxmock.Token(2), tok, "token 2 was not invalidated")
	assert.Equal(t, 2, up.Fetches())

	a.InvalidateAccessToken(ctx, wxmock.Token(1)) // stale report: no effect
	tok, err = a.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, wxmock.Token(2), tok)
	a.InvalidateAccessToken(ctx, wxmock.Token(2))
	tok, err = a.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, wxmock.Token(3), tok)
	assert.Equal(t, 3, up.Fetches())
}

// recordingSource is a TokenSource of the user's that hears of refusals.
type recordingSource struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (s *recordingSource) Token(context.Context) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return &Token{AccessToken: fmt.Sprintf("CENTRAL_TOKEN_%d", s.n), ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func (s *recordingSource) InvalidateToken(_ context.Context, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok)
	return nil
}

func TestWithTokenSource(t *testing.T) {
	t.Parallel()
	src := &recordingSource{}
	a, up, _, _ := testApp(t, WithTokenSource(src))
	up.Revoke("CENTRAL_TOKEN_1")
	up.Transport().RegisterResponder(http.MethodGet, wxmock.Base+"/wxa/checksession", func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("access_token") != "CENTRAL_TOKEN_2" {
			return wxmock.JSON(`{"errcode":40001,"errmsg":"invalid credential"}`), nil
		}
		return wxmock.JSON(`{"errcode":0}`), nil
	})
	require.NoError(t, a.CheckSessionKey(context.Background(), "oUser1", testKey))
	assert.Equal(t, []string{"CENTRAL_TOKEN_1"}, src.invalidated)
	assert.Equal(t, 2, src.n)
	assert.Equal(t, 0, up.Fetches(), "WeChat's token endpoint is never asked")
}

func TestStaticTokenSource(t *testing.T) {
	t.Parallel()
	a, up, clk, _ := testApp(t, WithTokenSource(StaticTokenSource("STATIC_TOKEN_FOR_TESTS")))
	clk.Advance(1000 * time.Hour)
	tok, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "STATIC_TOKEN_FOR_TESTS", tok)
	assert.Equal(t, 0, up.Fetches())

	b, _, _, _ := testApp(t, WithTokenSource(StaticTokenSource("")))
	_, err = b.AccessToken(context.Background())
	require.Error(t, err)
}

func TestTokenOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
	}{
		{"nil store", []Option{WithTokenStore(nil)}},
		{"nil source", []Option{WithTokenSource(nil)}},
		{"nil clock", []Option{WithClock(nil)}},
		{"classic and source", []Option{WithClassicToken(), WithTokenSource(StaticTokenSource("x"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(testAppID, testSecret, tt.opts...)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "wxauth: "))
		})
	}
}

func TestSharedMemoryStoreOneFetch(t *testing.T) {
	t.Parallel()
	store := NewMemoryTokenStore()
	clk := newFakeClock()
	up := wxmock.New()
	apps := make([]*App, 3)
	for i := range apps {
		var err error
		apps[i], err = New(testAppID, testSecret, WithHTTPClient(up.Client()), WithTokenStore(store), withClock(clk))
		require.NoError(t, err)
	}
	for round := 1; round <= 3; round++ {
		var wg sync.WaitGroup
		for _, a := range apps {
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := a.AccessToken(context.Background())
					assert.NoError(t, err)
				}()
			}
		}
		wg.Wait()
		assert.Equal(t, round, up.Fetches(), "one fetch per expiry across three apps")
		clk.Advance(3 * time.Hour)
	}
}

// failingStore is a TokenStore whose server is down.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) Load(context.Context, string) (*Token, error) { return nil, errStoreDown }
func (failingStore) Delete(context.Context, string, string) error { return errStoreDown }
func (failingStore) TryLock(context.Context, string, time.Duration) (TokenLease, bool, error) {
	return nil, false, errStoreDown
}

func TestStoreDown(t *testing.T) {
	t.Parallel()
	t.Run("stable fetches directly", func(t *testing.T) {
		t.Parallel()
		a, up, _, logs := testApp(t, WithTokenStore(failingStore{}))
		tok, err := a.AccessToken(context.Background())
		require.NoError(t, err)
		assert.Equal(t, wxmock.Token(1), tok)
		assert.Equal(t, 1, up.Fetches())
		assert.Contains(t, logs.String(), "token store failed, fetching directly")
	})
	t.Run("classic does not", func(t *testing.T) {
		t.Parallel()
		a, up, _, _ := testApp(t, WithTokenStore(failingStore{}), WithClassicToken())
		_, err := a.AccessToken(context.Background())
		require.ErrorIs(t, err, errStoreDown)
		assert.Equal(t, 0, up.Fetches())
	})
}

// TestMemoryTokenStoreFollowsItsClock: an App's own MemoryTokenStore runs on
// the App's clock (WithClock), so its locks and tokens expire by that clock,
// to the nanosecond, not by real time. The TokenStore contract itself is
// checked with real time by tokenstoretest (tokenstore_conformance_test.go).
func TestMemoryTokenStoreFollowsItsClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	m := miniauth.NewMemoryTokenStore(miniauth.MemoryTokenStoreClock(clk.Now))
	a, ok, err := m.TryLock(ctx, "app", time.Second) // instance A, slow fetch
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, a.Save(ctx, &Token{AccessToken: "OLD_TOKEN", ExpiresAt: clk.Now().Add(time.Hour)}))

	clk.Advance(time.Second - time.Nanosecond)
	_, ok, err = m.TryLock(ctx, "app", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "held until its ttl has passed on the clock")
	clk.Advance(time.Nanosecond)
	late := &Token{AccessToken: "LATE_FROM_A", ExpiresAt: clk.Now().Add(2 * time.Hour)}
	require.ErrorIs(t, a.Save(ctx, late), ErrLeaseLost, "expired on the clock, nobody took it")
	b, ok, err := m.TryLock(ctx, "app", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "A's lock expired on the clock: B takes it")
	require.NoError(t, b.Save(ctx, &Token{AccessToken: "NEWER_FROM_B", ExpiresAt: clk.Now().Add(time.Hour)}))
	require.ErrorIs(t, a.Save(ctx, late), ErrLeaseLost, "expired on the clock, B holds it")

	clk.Advance(time.Hour - time.Nanosecond)
	tok, err := m.Load(ctx, "app")
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Equal(t, "NEWER_FROM_B", tok.AccessToken, "A's late Saves stored nothing")
	clk.Advance(time.Nanosecond)
	tok, err = m.Load(ctx, "app")
	require.NoError(t, err)
	assert.Nil(t, tok, "expired at its ExpiresAt on the clock")
}

// deadlineStore is a MemoryTokenStore that records when TryLock was called
// with what ttl and the deadline of the lease's Save, and whose Load is slow
// once the lock is taken (the store's round trips between TryLock and the
// fetch).
type deadlineStore struct {
	*MemoryTokenStore
	mu           sync.Mutex
	lockCalled   time.Time
	ttl          time.Duration
	saveDeadline time.Time
}

func (s *deadlineStore) TryLock(ctx context.Context, appID string, ttl time.Duration) (TokenLease, bool, error) {
	s.mu.Lock()
	s.lockCalled, s.ttl = time.Now(), ttl
	s.mu.Unlock()
	l, ok, err := s.MemoryTokenStore.TryLock(ctx, appID, ttl)
	if !ok {
		return l, ok, err
	}
	return deadlineLease{TokenLease: l, s: s}, true, nil
}

func (s *deadlineStore) Load(ctx context.Context, appID string) (*Token, error) {
	s.mu.Lock()
	locked := !s.lockCalled.IsZero()
	s.mu.Unlock()
	if locked {
		time.Sleep(50 * time.Millisecond)
	}
	return s.MemoryTokenStore.Load(ctx, appID)
}

type deadlineLease struct {
	TokenLease
	s *deadlineStore
}

func (l deadlineLease) Save(ctx context.Context, tok *Token) error {
	d, _ := ctx.Deadline()
	l.s.mu.Lock()
	l.s.saveDeadline = d
	l.s.mu.Unlock()
	return l.TokenLease.Save(ctx, tok)
}

// deadlineSource records the deadline of the fetch's context.
type deadlineSource struct {
	mu       sync.Mutex
	deadline time.Time
}

func (s *deadlineSource) Token(ctx context.Context) (*Token, error) {
	d, _ := ctx.Deadline()
	s.mu.Lock()
	s.deadline = d
	s.mu.Unlock()
	return &Token{AccessToken: "FETCHED_UNDER_LOCK", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

// TestLockedFetchEndsBeforeTheLockExpires: the fetch and the Save under the
// store's lock have deadlines counted from TryLock, a margin before the
// lock's ttl runs out, however long the store's round trips after TryLock
// took (review finding: the fetch's deadline started after the second Load).
func TestLockedFetchEndsBeforeTheLockExpires(t *testing.T) {
	t.Parallel()
	store := &deadlineStore{MemoryTokenStore: NewMemoryTokenStore()}
	src := &deadlineSource{}
	a, _, _, _ := testApp(t, WithTokenStore(store), WithTokenSource(src))
	tok, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "FETCHED_UNDER_LOCK", tok)

	store.mu.Lock()
	defer store.mu.Unlock()
	src.mu.Lock()
	defer src.mu.Unlock()
	require.False(t, store.lockCalled.IsZero())
	expires := store.lockCalled.Add(store.ttl) // no earlier than the store's own expiry
	margin := engine.LockMargin(store.ttl)
	require.Positive(t, margin)
	require.False(t, src.deadline.IsZero(), "the fetch has a deadline")
	require.False(t, store.saveDeadline.IsZero(), "Save has a deadline")
	assert.False(t, src.deadline.After(expires.Add(-2*margin)), "the fetch ends two margins before the lock expires")
	assert.False(t, store.saveDeadline.After(expires.Add(-margin)), "Save ends a margin before the lock expires")
	saved, err := store.MemoryTokenStore.Load(context.Background(), testAppID)
	require.NoError(t, err)
	require.NotNil(t, saved)
	assert.Equal(t, "FETCHED_UNDER_LOCK", saved.AccessToken, "saved while the lease held")
}

func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	tok := Token{AccessToken: "SECRET_ACCESS_TOKEN_123", ExpiresAt: time.Unix(1700000000, 0)}
	var logs syncBuffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("t", "token", tok, "ptr", &tok)
	for _, s := range []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q %x", tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%v %+v", &tok, &tok), logs.String(),
	} {
		assert.NotContains(t, s, "SECRET_ACCESS_TOKEN_123")
	}
	assert.Contains(t, tok.String(), "REDACTED")

	a, _, _, _ := testApp(t)
	_, err := a.AccessToken(context.Background())
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a)} {
		assert.NotContains(t, s, testSecret)
		assert.NotContains(t, s, wxmock.Token(1))
		assert.Contains(t, s, testAppID)
	}
}

// TestNoSecretInErrorsOrLogs drives failures whose raw text would carry the
// access token or the app secret, and checks every error and log line.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	for _, classic := range []bool{false, true} {
		t.Run(fmt.Sprint("classic=", classic), func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if classic {
				opts = append(opts, WithClassicToken())
			}
			a, up, clk, logs := testApp(t, opts...)
			ctx := context.Background()
			tok, err := a.AccessToken(ctx)
			require.NoError(t, err)
			mt := up.Transport()
			var errs []error
			// An errmsg that echoes the token and the secret.
			mt.RegisterResponder(http.MethodGet, wxmock.Base+"/wxa/checksession", func(r *http.Request) (*http.Response, error) {
				return wxmock.JSON(fmt.Sprintf(`{"errcode":87009,"errmsg":"bad %s %s rid: %s"}`,
					r.URL.Query().Get("access_token"), testSecret, r.URL.Query().Get("access_token"))), nil
			})
			errs = append(errs, a.CheckSessionKey(ctx, "oUser1", testKey))
			// A transport failure: net/http's *url.Error carries the full URL.
			mt.RegisterResponder(http.MethodGet, wxmock.Base+"/wxa/resetusersessionkey", httpmock.NewErrorResponder(errors.New("connection reset")))
			_, err = a.ResetSessionKey(ctx, "oUser1", testKey)
			errs = append(errs, err)
			// 40001 then a failing token fetch that also echoes the secret.
			mt.RegisterResponder(http.MethodPost, wxmock.Base+"/wxa/business/getuserphonenumber",
				func(*http.Request) (*http.Response, error) {
					return wxmock.JSON(`{"errcode":40001,"errmsg":"invalid credential"}`), nil
				})
			fail := httpmock.NewErrorResponder(errors.New("dial refused"))
			mt.RegisterResponder(http.MethodPost, wxmock.Base+"/cgi-bin/stable_token", fail)
			mt.RegisterResponder(http.MethodGet, wxmock.Base+"/cgi-bin/token", fail)
			_, err = a.GetPhoneNumber(ctx, "phone-code-0123456789")
			errs = append(errs, err)
			clk.Advance(3 * time.Hour)
			_, err = a.AccessToken(ctx)
			errs = append(errs, err)

			for _, err := range errs {
				require.Error(t, err)
				for _, s := range []string{err.Error(), fmt.Sprintf("%+v %#v", err, err)} {
					assert.NotContains(t, s, tok)
					assert.NotContains(t, s, testSecret)
					assert.NotContains(t, s, "phone-code-0123456789")
				}
			}
			assert.ErrorIs(t, errs[0], ErrSessionKeyExpired)
			out := logs.String()
			assert.NotEmpty(t, out)
			assert.NotContains(t, out, tok)
			assert.NotContains(t, out, testSecret)
		})
	}
}

func TestConcurrentRefusalsReportedOnce(t *testing.T) {
	t.Parallel()
	src := &recordingSource{}
	a, up, _, _ := testApp(t, WithTokenSource(src))
	ctx := context.Background()
	_, err := a.AccessToken(ctx)
	require.NoError(t, err)
	arrived := make(chan struct{}, 20)
	release := make(chan struct{})
	up.Transport().RegisterResponder(http.MethodGet, wxmock.Base+"/wxa/checksession", func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("access_token") == "CENTRAL_TOKEN_1" {
			arrived <- struct{}{}
			<-release
			return wxmock.JSON(`{"errcode":40001,"errmsg":"invalid credential"}`), nil
		}
		return wxmock.JSON(`{"errcode":0}`), nil
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, a.CheckSessionKey(ctx, "oUser1", testKey))
		}()
	}
	for range 20 {
		<-arrived // all 20 calls carry token 1
	}
	close(release)
	wg.Wait()
	assert.Equal(t, []string{"CENTRAL_TOKEN_1"}, src.invalidated, "reported once")
	assert.Equal(t, 2, src.n, "one new token for the 20 refused calls")
}
