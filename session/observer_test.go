package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// switchStore fails with ErrStoreUnavailable while down is set.
type switchStore struct {
	session.Store
	down atomic.Bool
}

func (s *switchStore) Get(ctx context.Context, key string) (*session.Record, error) {
	if s.down.Load() {
		return nil, session.ErrStoreUnavailable
	}
	return s.Store.Get(ctx, key)
}

func (s *switchStore) Put(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	if s.down.Load() {
		return session.ErrStoreUnavailable
	}
	return s.Store.Put(ctx, key, rec, ttl)
}

func TestWithObserverNil(t *testing.T) {
	mem, err := session.NewMemoryStore()
	require.NoError(t, err)
	m := session.NewManager(mem, session.WithObserver(nil))
	assert.ErrorContains(t, m.Err(), "session: observer must not be nil")
}

func TestObserverLoginsAndOutage(t *testing.T) {
	const appID, secret = "wx0123456789abcdef", "app-secret"
	srv := wxauthtest.NewServer(appID, secret)
	defer srv.Close()
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	mem, err := session.NewMemoryStore()
	require.NoError(t, err)
	store := &switchStore{Store: mem}
	clock := wxauthtest.NewClock(time.Now())

	var mu sync.Mutex
	var logins []miniauth.Login
	var outages []miniauth.Outage
	obs := &miniauth.Observer{
		Login: func(_ context.Context, l *miniauth.Login) {
			mu.Lock()
			defer mu.Unlock()
			logins = append(logins, *l)
		},
		Outage: func(_ context.Context, o *miniauth.Outage) {
			mu.Lock()
			defer mu.Unlock()
			outages = append(outages, *o)
		},
	}
	m := session.NewManager(store, session.WithObserver(obs), session.WithClock(clock.Now))
	require.NoError(t, m.Err())
	h := session.LoginHandler(app, m)
	post := func(body string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body)))
		return w.Code
	}
	id := srv.AddUser(wxauthtest.User{})

	// Many logins at once: each is told once.
	const n = 32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { assert.Equal(t, http.StatusOK, post(`{"code":"`+srv.Login(id)+`"}`)) })
	}
	wg.Wait()
	require.Len(t, logins, n)
	for _, l := range logins {
		assert.Equal(t, miniauth.Login{Platform: miniauth.WeChat, Op: "login", Status: 200, Outcome: "ok"}, l)
	}

	assert.Equal(t, http.StatusBadRequest, post(`{}`))
	assert.Equal(t, miniauth.Login{Op: "login", Status: 400, Outcome: session.CodeMissingCode}, logins[n])

	store.down.Store(true)
	clock.Advance(2 * time.Second) // the store has not answered lately: the next login probes it
	assert.Equal(t, http.StatusServiceUnavailable, post(`{"code":"`+srv.Login(id)+`"}`))
	assert.Equal(t, miniauth.Login{Op: "login", Status: 503, Outcome: session.CodeStoreUnavailable, CodeKept: true}, logins[n+1])
	require.Len(t, outages, 1)
	assert.Equal(t, miniauth.Outage{Dependency: "session store", Down: true, Op: "probe"}, outages[0])

	store.down.Store(false)
	clock.Advance(2 * time.Second)
	assert.Equal(t, http.StatusOK, post(`{"code":"`+srv.Login(id)+`"}`))
	require.Len(t, outages, 2)
	assert.False(t, outages[1].Down)
	assert.Equal(t, "session store", outages[1].Dependency)
	assert.Equal(t, 2*time.Second, outages[1].Duration)
	assert.Equal(t, 1, outages[1].Refused)
}
