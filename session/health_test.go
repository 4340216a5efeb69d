package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// outageStore is a MemoryStore behind a switch: while down, every call
// fails as an unreachable store's do; while hung, every call blocks until
// its context ends (as a store whose server froze, with a client that
// honors contexts). Unlike a bare MemoryStore, the Manager bounds its calls.
type outageStore struct {
	mem   *MemoryStore
	down  atomic.Bool
	hung  atomic.Bool
	calls atomic.Int64
}

var errOutage = fmt.Errorf("outage: dial tcp 127.0.0.1:6379: connection refused: %w", ErrStoreUnavailable)

func newOutageStore(t testing.TB) *outageStore {
	t.Helper()
	mem, err := NewMemoryStore()
	require.NoError(t, err)
	t.Cleanup(func() { _ = mem.Close() })
	return &outageStore{mem: mem}
}

func (s *outageStore) fail(ctx context.Context) error {
	s.calls.Add(1)
	switch {
	case s.hung.Load():
		<-ctx.Done()
		return ctx.Err()
	case s.down.Load():
		return errOutage
	}
	return nil
}

func (s *outageStore) Get(ctx context.Context, key string) (*Record, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	return s.mem.Get(ctx, key)
}

func (s *outageStore) Put(ctx context.Context, key string, rec *Record, ttl time.Duration) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.mem.Put(ctx, key, rec, ttl)
}

func (s *outageStore) Delete(ctx context.Context, key string) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.mem.Delete(ctx, key)
}

func (s *outageStore) DeleteSubject(ctx context.Context, subject string) error {
	if err := s.fail(ctx); err != nil {
		return err
	}
	return s.mem.DeleteSubject(ctx, subject)
}

// logRecorder is a slog.Handler that keeps what is logged.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

// at returns the records logged at level or above.
func (h *logRecorder) at(level slog.Level) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.recs {
		if r.Level >= level {
			out = append(out, r)
		}
	}
	return out
}

func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

func testManager(t testing.TB, store Store, opts ...Option) *Manager {
	t.Helper()
	m := NewManager(store, opts...)
	require.NoError(t, m.Err())
	t.Cleanup(func() { _ = m.Close() })
	return m
}

var healthSession = &wxauth.Session{OpenID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE", SessionKey: "tiihtNczf5v6AKRyjwEUhQ=="}

// TestStoreTimeout: a store that blocks until its context ends costs each
// call one store timeout, and the call fails as an outage (503), not as a
// bad token (401).
func TestStoreTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOutageStore(t)
	m := testManager(t, s, WithStoreTimeout(20*time.Millisecond))
	token, err := m.Issue(ctx, healthSession)
	require.NoError(t, err)

	s.hung.Store(true)
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, ErrStoreUnavailable)
	assert.NotErrorIs(t, err, ErrInvalidToken)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the cause is kept")
	assert.Contains(t, err.Error(), "no answer within 20ms")
	_, err = m.Issue(ctx, healthSession)
	assert.ErrorIs(t, err, ErrStoreUnavailable)
	assert.ErrorIs(t, m.Revoke(ctx, token), ErrStoreUnavailable)
	assert.ErrorIs(t, m.RevokeAll(ctx, healthSession.OpenID), ErrStoreUnavailable)

	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rr := httptest.NewRecorder()
	m.Middleware(http.NotFoundHandler()).ServeHTTP(rr, r)
	assert.Equal(t, http.StatusServiceUnavailable, rr.Code)
	assert.Contains(t, rr.Body.String(), CodeStoreUnavailable)

	s.hung.Store(false)
	_, err = m.Validate(ctx, token)
	require.NoError(t, err, "the token survived the outage")
}

// deafStore ignores its context: it answers when release is closed. The
// Manager must not wait for it (go-redis without ContextTimeoutEnabled
// behaves so).
type deafStore struct {
	outageStore
	release chan struct{}
	panics  bool
}

func (s *deafStore) Get(ctx context.Context, key string) (*Record, error) {
	<-s.release
	if s.panics {
		panic("deaf store: broken")
	}
	return s.outageStore.Get(ctx, key)
}

func TestStoreTimeoutWithAStoreThatIgnoresItsContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logs := &logRecorder{}
	s := &deafStore{outageStore: *newOutageStore(t), release: make(chan struct{}), panics: true}
	// Long enough that on a loaded machine the Issue, and the last
	// Validate's goroutine, still answer within it (20 ms failed there):
	// the first Validate waits it out once.
	m := testManager(t, s, WithStoreTimeout(250*time.Millisecond), WithLogger(slog.New(logs)))
	token, err := m.Issue(ctx, healthSession)
	require.NoError(t, err)

	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, ErrStoreUnavailable, "the Manager returns at its timeout, the store's call still running")
	close(s.release) // the abandoned call now panics: logged, not raised in nobody's goroutine
	require.Eventually(t, func() bool {
		for _, r := range logs.at(slog.LevelError) {
			if r.Message == "session: store call panicked after its timeout" {
				return true
			}
		}
		return false
	}, 10*time.Second, time.Millisecond)
	assert.PanicsWithValue(t, "deaf store: broken", func() { _, _ = m.Validate(ctx, token) },
		"a panic of a call the caller still waits for is the caller's")
}

// TestHungCallsAreBounded: calls to a store that ignores its context pile
// up only to maxAbandoned; beyond, calls fail at once, without a goroutine.
func TestHungCallsAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &deafStore{outageStore: *newOutageStore(t), release: make(chan struct{})}
	m := testManager(t, s, WithStoreTimeout(100*time.Millisecond)) // the Issue and the last Validate answer within it, even on a loaded machine
	token, err := m.Issue(ctx, healthSession)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range maxAbandoned + 100 {
		wg.Go(func() {
			_, err := m.Validate(ctx, token)
			assert.ErrorIs(t, err, ErrStoreUnavailable)
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, m.health.abandoned.Load(), int64(maxAbandoned+100))
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, errTooManyHung, "with %d calls hung, the next fails at once", m.health.abandoned.Load())

	close(s.release)
	require.Eventually(t, func() bool { return m.health.abandoned.Load() == 0 }, 10*time.Second, time.Millisecond,
		"hung calls that end are counted out")
	_, err = m.Validate(ctx, token)
	require.NoError(t, err)
}

// TestCallerCancelIsNoOutage: a client that goes away fails its own call
// but says nothing of the store.
func TestCallerCancelIsNoOutage(t *testing.T) {
	t.Parallel()
	s := newOutageStore(t)
	m := testManager(t, s)
	token, err := m.Issue(context.Background(), healthSession)
	require.NoError(t, err)
	s.hung.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Validate(ctx, token)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, m.storeKnownDown())
}

func TestWithStoreTimeoutRefuses(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second, 9 * time.Millisecond, time.Minute + 1} {
		assert.Error(t, NewManager(nil, WithStoreTimeout(d)).Err(), d)
	}
	for _, d := range []time.Duration{10 * time.Millisecond, time.Minute} {
		m := NewManager(nil, WithStoreTimeout(d))
		assert.NoError(t, m.Err(), d)
		_ = m.Close()
	}
}

// TestOutageLogsOnce: an outage is one Error line (with the first cause)
// and one Warn line when it ends (with the count of refusals), whatever the
// number of requests refused in between; those are logged at Debug.
func TestOutageLogsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logs := &logRecorder{}
	clk := NewFakeClock()
	s := newOutageStore(t)
	m := testManager(t, s, WithLogger(slog.New(logs)), WithClock(clk.Now))
	token, err := m.Issue(ctx, healthSession)
	require.NoError(t, err)
	h := m.Middleware(http.NotFoundHandler())
	get := func() int {
		r := httptest.NewRequest(http.MethodGet, "/me", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, r)
		return rr.Code
	}

	s.down.Store(true)
	const refused = 200
	var wg sync.WaitGroup
	for range refused {
		wg.Go(func() { assert.Equal(t, http.StatusServiceUnavailable, get()) })
	}
	wg.Wait()
	clk.Advance(3 * time.Second)
	s.down.Store(false)
	require.Equal(t, http.StatusNotFound, get(), "the token works again")
	require.Equal(t, http.StatusNotFound, get())

	errs := logs.at(slog.LevelError)
	require.Len(t, errs, 1, "one Error line for the outage, not one per request")
	assert.Equal(t, "session: store unavailable", errs[0].Message)
	assert.Equal(t, errOutage.Error(), attr(errs[0], "error").String(), "the first cause is logged")
	assert.Equal(t, "validate", attr(errs[0], "op").String())
	warns := logs.at(slog.LevelWarn)
	require.Len(t, warns, 2)
	assert.Equal(t, "session: store available again", warns[1].Message)
	assert.EqualValues(t, refused, attr(warns[1], "refused").Int64())
	assert.Equal(t, 3*time.Second, attr(warns[1], "outage").Duration())
	debug := 0
	for _, r := range logs.at(slog.LevelDebug) {
		if r.Message == "session: request refused" {
			assert.Equal(t, slog.LevelDebug, r.Level)
			debug++
		}
		assert.NotContains(t, fmt.Sprint(r), token)
	}
	assert.Equal(t, refused, debug, "each refusal at Debug")
}

// TestLoginKeepsCodesDuringOutage is issue 11's case: 50 clients log in
// while the store is down. None of their wx.login codes is spent at WeChat;
// each gets 503, and the same codes log in once the store is back.
func TestLoginKeepsCodesDuringOutage(t *testing.T) {
	t.Parallel()
	const appID, secret, clients = "wx00000000000000h1", "health-test-secret-0123456789abc", 50
	srv := wxauthtest.NewServer(appID, secret)
	t.Cleanup(srv.Close)
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	clk := NewFakeClock()
	s := newOutageStore(t)
	s.down.Store(true) // down from the start: no call has told the Manager yet
	m := testManager(t, s, WithClock(clk.Now))
	h := LoginHandler(app, m)
	login := func(code string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"`+code+`"}`))
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, r)
		return rr
	}
	codes := make([]string, clients)
	for i := range codes {
		codes[i] = srv.Login("")
	}
	run := func(want int) {
		t.Helper()
		var wg sync.WaitGroup
		for _, code := range codes {
			wg.Go(func() {
				rr := login(code)
				if assert.Equal(t, want, rr.Code, rr.Body.String()) && want == http.StatusServiceUnavailable {
					var body map[string]string
					assert.NoError(t, json.Unmarshal(rr.Body.Bytes(), &body))
					assert.Equal(t, CodeStoreUnavailable, body["error"])
				}
			})
		}
		wg.Wait()
	}

	run(http.StatusServiceUnavailable)
	assert.Zero(t, srv.Calls("/sns/jscode2session"), "no code was spent while the store was down")
	assert.True(t, m.storeKnownDown())
	probes := s.calls.Load()
	assert.LessOrEqual(t, probes, int64(2), "one probe for the 50 logins (two at most, should one follow another)")

	clk.Advance(storeProbeEvery / 2)
	run(http.StatusServiceUnavailable) // known down: refused without a probe
	assert.Equal(t, probes, s.calls.Load(), "no probe before the interval has passed")

	s.down.Store(false)
	clk.Advance(storeProbeEvery)
	run(http.StatusOK) // the first login probes, finds the store back; every code still works
	assert.Equal(t, clients, srv.Calls("/sns/jscode2session"))
	assert.False(t, m.storeKnownDown())
}

// TestLoginGateProbesOnce: while one login probes a store that does not
// answer, the others wait for that probe instead of sending their own.
func TestLoginGateProbesOnce(t *testing.T) {
	t.Parallel()
	s := newOutageStore(t)
	s.hung.Store(true)
	m := testManager(t, s, WithStoreTimeout(50*time.Millisecond))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			e := m.loginGate(context.Background())
			if assert.NotNil(t, e) {
				assert.Equal(t, http.StatusServiceUnavailable, e.Status)
				assert.True(t, errors.Is(e, ErrStoreUnavailable))
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, s.calls.Load(), int64(2), "logins share the probe")

	mem := testManager(t, nil)
	assert.Nil(t, mem.loginGate(context.Background()), "a memory store is never down")
}

// panicOnceStore is a MemoryStore whose first Get panics.
type panicOnceStore struct {
	*MemoryStore
	panicked atomic.Bool
}

func (s *panicOnceStore) Get(ctx context.Context, key string) (*Record, error) {
	if s.panicked.CompareAndSwap(false, true) {
		panic("store bug")
	}
	return s.MemoryStore.Get(ctx, key)
}

// TestLoginGateSurvivesAPanickingProbe: a probe whose store call panics
// (re-raised in the login that ran it, and recovered by net/http) must not
// leave the gate waiting for a probe that never ends: later logins probe
// again instead of hanging until their clients give up.
func TestLoginGateSurvivesAPanickingProbe(t *testing.T) {
	t.Parallel()
	mem, err := NewMemoryStore()
	require.NoError(t, err)
	t.Cleanup(func() { _ = mem.Close() })
	m := testManager(t, &panicOnceStore{MemoryStore: mem}, WithStoreTimeout(50*time.Millisecond))
	assert.Panics(t, func() { _ = m.loginGate(context.Background()) })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e := m.loginGate(ctx)
	assert.Nil(t, e, "the next login probes again and passes")
	assert.NoError(t, ctx.Err(), "the next login did not wait for the dead probe")
}

// TestRequestDeadlineIsNoServerError: a request whose own deadline (a
// timeout middleware's) ends while its store call runs is answered as a
// request that went away, as WeChatError answers it, not 500 server_error
// logged at Error: the store said nothing, and the server is not broken.
func TestRequestDeadlineIsNoServerError(t *testing.T) {
	t.Parallel()
	s := newOutageStore(t)
	m := testManager(t, s)
	token, err := m.Issue(context.Background(), healthSession)
	require.NoError(t, err)
	s.hung.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	_, e := m.Authenticate(r)
	require.NotNil(t, e)
	assert.Equal(t, StatusClientClosedRequest, e.Status)
	assert.Equal(t, CodeCanceled, e.Code)
	assert.False(t, m.storeKnownDown())

	// A store timeout stays an outage, though its cause is a deadline too.
	m2 := testManager(t, s, WithStoreTimeout(20*time.Millisecond))
	_, err = m2.Validate(context.Background(), token)
	assert.Equal(t, http.StatusServiceUnavailable, m2.tokenError(err).Status)
}

// honestStore is a deafStore that says it honours its context.
type honestStore struct{ deafStore }

func (*honestStore) HonorsContext() bool { return true }

// TestContextStoreRunsInline: the Manager calls a store that honours its
// context on the caller's goroutine, bounded by the context alone: no call
// is handed to a goroutine and abandoned. (A store that says so and then
// blocks holds its caller, as ContextStore warns: that is how this test
// sees that the call ran inline.)
func TestContextStoreRunsInline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &honestStore{deafStore{outageStore: *newOutageStore(t), release: make(chan struct{})}}
	m := testManager(t, s, WithStoreTimeout(10*time.Millisecond))
	require.True(t, m.inline)
	token, err := m.Issue(ctx, healthSession)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := m.Validate(ctx, token)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // ten store timeouts
	select {
	case err := <-done:
		t.Fatalf("Validate returned before the store did (%v): the call was not inline", err)
	default:
	}
	assert.Zero(t, m.health.abandoned.Load(), "no call handed off and abandoned")
	close(s.release)
	require.NoError(t, <-done, "the store's late answer is its answer")

	// A ContextStore that does not honour its context is bounded as any
	// other store.
	m = testManager(t, &dishonestStore{s}, WithStoreTimeout(10*time.Millisecond))
	assert.False(t, m.inline)
}

// dishonestStore is a ContextStore that says it does not honour its context.
type dishonestStore struct{ *honestStore }

func (*dishonestStore) HonorsContext() bool { return false }
