package session_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// flakyDep is a dependency of a login hook that a test takes down and
// brings back.
type flakyDep struct {
	down   atomic.Bool
	hang   atomic.Bool // the hook ignores its context and hangs
	probes atomic.Int64
}

var errDepDown = errors.New("connection refused")

func (d *flakyDep) ready(ctx context.Context) error {
	d.probes.Add(1)
	if d.down.Load() {
		return errDepDown
	}
	return nil
}

// guardEnv is a login endpoint whose hook needs d.
type guardEnv struct {
	fake  *wxauthtest.Server
	login http.Handler
	m     *session.Manager
	dep   *flakyDep
	e     *bindEnv
}

func newGuardEnv(t *testing.T, report bool, opts ...session.Option) *guardEnv {
	t.Helper()
	fake := wxauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(fake.Close)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	m := newManager(t, nil, opts...)
	d := &flakyDep{}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hook := session.WithOnLogin(func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		if d.hang.Load() {
			<-release // ignores ctx
			return nil, nil
		}
		if d.down.Load() {
			if report {
				return nil, &session.UnavailableError{Dependency: "users db", Ready: d.ready, Err: errDepDown}
			}
			return nil, &session.UnavailableError{Dependency: "users db", Err: errDepDown}
		}
		return nil, nil
	})
	return &guardEnv{fake: fake, login: session.LoginHandler(app, m, hook), m: m, dep: d,
		e: &bindEnv{fake: fake, m: m}}
}

func (g *guardEnv) try(t *testing.T) (int, map[string]any) {
	return g.e.post(t, g.login, "", map[string]string{"code": g.fake.Login("")})
}

func TestDependencyOptions(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	for _, c := range []struct {
		name string
		opts []session.Option
	}{
		{"empty name", []session.Option{session.WithDependency("", ok)}},
		{"long name", []session.Option{session.WithDependency(strings.Repeat("n", 65), ok)}},
		{"nil probe", []session.Option{session.WithDependency("db", nil)}},
		{"twice", []session.Option{session.WithDependency("db", ok), session.WithDependency("db", ok)}},
		{"timeout too short", []session.Option{session.WithDependencyTimeout(time.Millisecond)}},
		{"timeout too long", []session.Option{session.WithDependencyTimeout(2 * time.Minute)}},
	} {
		m := session.NewManager(nil, append(c.opts, session.WithLogger(discardLogger()))...)
		assert.Error(t, m.Err(), c.name)
		_ = m.Close()
	}
	err := &session.UnavailableError{Dependency: "db", Err: errDepDown}
	assert.ErrorIs(t, err, session.ErrDependencyUnavailable)
	assert.ErrorIs(t, err, errDepDown)
	assert.Equal(t, "session: db unavailable: connection refused", err.Error())
}

// TestDependencyGuard: a hook's UnavailableError marks its dependency down;
// later logins are refused before they spend a code; the background probe
// brings it back; the outage is one Error and one Warn line.
func TestDependencyGuard(t *testing.T) {
	t.Parallel()
	logger, buf := syncDebugLogger()
	g := newGuardEnv(t, true, session.WithLogger(logger))
	status, body := g.try(t)
	require.Equal(t, http.StatusOK, status, body)

	g.dep.down.Store(true)
	status, body = g.try(t)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, session.CodeCodeSpent, body["error"], "the first login of the outage spent its code")
	spent := g.fake.Calls(wxauthtest.PathCode2Session)
	for range 10 {
		status, body = g.try(t)
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, session.CodeStoreUnavailable, body["error"])
	}
	require.Equal(t, spent, g.fake.Calls(wxauthtest.PathCode2Session), "no code spent once the outage is known")

	g.dep.down.Store(false)
	require.Eventually(t, func() bool {
		status, _ := g.try(t)
		return status == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond, "the background probe brings the dependency back")
	assert.Positive(t, g.dep.probes.Load())
	errs, warns := levelLines(buf.String(), "ERROR"), levelLines(buf.String(), "WARN")
	require.Len(t, errs, 1, "%q", errs)
	require.Len(t, warns, 1, "%q", warns)
	assert.Contains(t, errs[0], `"dependency":"users db"`)
	assert.Contains(t, warns[0], `"refused":`)
}

// TestDependencyWithoutProbe: a dependency reported without a probe lets
// one login through a second as its probe.
func TestDependencyWithoutProbe(t *testing.T) {
	t.Parallel()
	g := newGuardEnv(t, false, session.WithLogger(discardLogger()))
	g.dep.down.Store(true)
	status, body := g.try(t)
	require.Equal(t, session.CodeCodeSpent, body["error"], status)
	status, body = g.try(t)
	require.Equal(t, session.CodeStoreUnavailable, body["error"], status)
	g.dep.down.Store(false)
	require.Eventually(t, func() bool {
		status, _ := g.try(t)
		return status == http.StatusOK
	}, 5*time.Second, 50*time.Millisecond, "a login passes as the probe")
	status, _ = g.try(t)
	require.Equal(t, http.StatusOK, status)
}

// TestRegisteredDependency: a registered dependency is probed before a
// login spends its code, so even the first login of an outage keeps it.
func TestRegisteredDependency(t *testing.T) {
	t.Parallel()
	d := &flakyDep{}
	g := newGuardEnv(t, true, session.WithLogger(discardLogger()), session.WithDependency("users db", d.ready))
	g.dep = d
	d.down.Store(true)
	status, body := g.try(t)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, session.CodeStoreUnavailable, body["error"], "probed before the code was spent")
	require.Zero(t, g.fake.Calls(wxauthtest.PathCode2Session))
	d.down.Store(false)
	require.Eventually(t, func() bool {
		status, _ := g.try(t)
		return status == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond)
}

// TestHookBounded: a hook that ignores its context is abandoned after the
// dependency timeout: 503 in about that time, not the hook's.
func TestHookBounded(t *testing.T) {
	t.Parallel()
	g := newGuardEnv(t, true, session.WithLogger(discardLogger()), session.WithDependencyTimeout(100*time.Millisecond))
	g.dep.hang.Store(true)
	start := time.Now()
	status, body := g.try(t)
	took := time.Since(start)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, session.CodeCodeSpent, body["error"])
	assert.Less(t, took, 2*time.Second, "bounded by the dependency timeout")
	status, body = g.try(t)
	require.Equal(t, session.CodeStoreUnavailable, body["error"], "the hook is known down: %d", status)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// Manager's background probes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// syncDebugLogger is debugLogger on a syncBuffer.
func syncDebugLogger() (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// putFails is a spyStore whose Put fails as a store that just went down,
// while reads (the gate's probe) still answer.
type putFails struct{ *spyStore }

func (putFails) Put(context.Context, string, *session.Record, time.Duration) error { return errDown }

// TestCodeSpentOnIssue: the session store fails after code2session (and
// the phone exchange): the answer says the codes are spent, and which.
func TestCodeSpentOnIssue(t *testing.T) {
	t.Parallel()
	fake := wxauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(fake.Close)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	m := newManager(t, putFails{newSpyStore()}, session.WithLogger(discardLogger()))
	e := &bindEnv{fake: fake, m: m}
	login := session.LoginHandler(app, m)
	openID := fake.AddUser(wxauthtest.User{})
	pc, err := fake.PhoneCode(openID)
	require.NoError(t, err)
	status, body := e.post(t, login, "", map[string]string{"code": fake.Login(openID), "phoneCode": pc})
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, session.CodeCodeSpent, body["error"])
	assert.Contains(t, body["message"], "wx.login")
	assert.Contains(t, body["message"], "phone number again", "a phone code was spent too")
	assert.Equal(t, 1, fake.Calls(wxauthtest.PathPhoneNumber))

	status, body = e.post(t, login, "", map[string]string{"code": fake.Login(openID)})
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, session.CodeStoreUnavailable, body["error"], "known down now: the code is kept")
}
