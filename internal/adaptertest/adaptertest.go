// Package adaptertest is the end-to-end test that every framework adapter
// (the nested modules under github.com/wxmp/miniauth/adapters) passes: a
// silent login against [wxauthtest], a request behind the adapter's
// middleware, its refusals compared with what [session.Manager.Middleware]
// answers, logout, a store that is down, cookie tokens with a custom error
// handler, and many concurrent requests, all over real HTTP through the
// framework's own server.
package adaptertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// Service is what an adapter's test mounts on its framework's server.
type Service struct {
	Client  wxauth.Client
	Manager *session.Manager
}

// Start mounts s on the framework's real server, listening on
// 127.0.0.1:0, and returns its base URL ("http://127.0.0.1:port"); it stops
// the server in t.Cleanup. The routes are:
//
//	POST /login   the adapter's login route, on s.Client and s.Manager
//	GET  /me      the adapter's middleware, then a handler that answers 200 with the JSON of [Me]
//	POST /logout  the adapter's logout route
//
// Every request first passes a middleware of the framework's own that puts
// [Tag] into the request's context (as that framework carries contexts), so
// the test sees that the context reaches the session store.
type Start func(t *testing.T, s Service) string

type tagKey struct{}

// Tag returns ctx marked as the test's: the store checks that every call it
// gets carries the mark.
func Tag(ctx context.Context) context.Context { return context.WithValue(ctx, tagKey{}, true) }

func tagged(ctx context.Context) bool { v, _ := ctx.Value(tagKey{}).(bool); return v }

// meBody is the answer of GET /me.
type meBody struct {
	OpenID        string `json:"openid"`
	Subject       string `json:"subject"`
	ContextOpenID string `json:"contextOpenid"`
	Tagged        bool   `json:"tagged"`
}

// Me is the body GET /me answers: rec is the Record the adapter put where
// the framework's handlers look (its getter), ctx the request context the
// framework hands its handlers, where [session.FromContext] must find the
// same Record.
func Me(ctx context.Context, rec *session.Record) any {
	b := meBody{Tagged: tagged(ctx)}
	if rec != nil {
		b.OpenID, b.Subject = rec.OpenID, rec.Subject
	}
	if r, ok := session.FromContext(ctx); ok {
		b.ContextOpenID = r.OpenID
	}
	return b
}

// store is a memory store that can be taken down, and that counts the calls
// whose context lacks the tag.
type store struct {
	*session.MemoryStore
	down     atomic.Bool
	untagged atomic.Int32
}

func (s *store) check(ctx context.Context) error {
	if !tagged(ctx) {
		s.untagged.Add(1)
	}
	if s.down.Load() {
		return fmt.Errorf("adaptertest: store is down: %w", session.ErrStoreUnavailable)
	}
	return nil
}

func (s *store) Get(ctx context.Context, key string) (*session.Record, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	return s.MemoryStore.Get(ctx, key)
}

func (s *store) Put(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.MemoryStore.Put(ctx, key, rec, ttl)
}

func (s *store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.MemoryStore.Delete(ctx, key)
}

// fixture is one started service.
type fixture struct {
	t      *testing.T
	wechat *wxauthtest.Server
	store  *store
	m      *session.Manager
	url    string
	http   *http.Client
}

const (
	appID  = "wx0123456789abcdef"
	secret = "0123456789abcdef0123456789abcdef"
)

func newFixture(t *testing.T, start Start, opts ...session.Option) *fixture {
	t.Helper()
	wechat := wxauthtest.NewServer(appID, secret)
	t.Cleanup(wechat.Close)
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL))
	require.NoError(t, err)
	mem, err := session.NewMemoryStore()
	require.NoError(t, err)
	st := &store{MemoryStore: mem}
	m := session.NewManager(st, opts...)
	require.NoError(t, m.Err())
	t.Cleanup(func() { _ = m.Close() })
	f := &fixture{t: t, wechat: wechat, store: st, m: m, http: &http.Client{Timeout: 10 * time.Second}}
	f.url = start(t, Service{Client: app, Manager: m})
	// Before the server stops (cleanups run last first): a server's graceful
	// shutdown waits for connections the client dialled and never used.
	t.Cleanup(f.http.CloseIdleConnections)
	t.Cleanup(func() {
		assert.Zero(t, st.untagged.Load(), "store calls whose context lost the framework's request context")
	})
	return f
}

// answer is a response, reduced to what a client of miniauth sees.
type answer struct {
	Status int
	Header http.Header // the headers miniauth sets
	Body   string
}

// comparedHeaders are the headers of an answer compared with the
// Middleware's: the ones miniauth sets. Frameworks add their own (Date,
// Server, Content-Length), which are no concern here.
var comparedHeaders = []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Www-Authenticate"}

func reduce(status int, h http.Header, body string) answer {
	a := answer{Status: status, Header: http.Header{}, Body: body}
	for _, k := range comparedHeaders {
		if v := h.Values(k); len(v) > 0 {
			a.Header[k] = v
		}
	}
	return a
}

// do sends a request with the given headers and returns the answer.
func (f *fixture) do(method, path, body string, header http.Header) answer {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	require.NoError(f.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.http.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return reduce(resp.StatusCode, resp.Header, string(b))
}

// reference is what the Manager's own net/http Middleware answers a
// request with these headers.
func (f *fixture) reference(header http.Header) answer {
	f.t.Helper()
	req := httptest.NewRequestWithContext(Tag(context.Background()), http.MethodGet, "/me", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	f.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})).ServeHTTP(w, req)
	return reduce(w.Code, w.Header(), w.Body.String())
}

// login logs the user in through POST /login and returns the token.
func (f *fixture) login(openID string) string {
	f.t.Helper()
	a := f.do(http.MethodPost, "/login", `{"code":"`+f.wechat.Login(openID)+`"}`, nil)
	require.Equal(f.t, http.StatusOK, a.Status, a.Body)
	var body struct {
		Token  string `json:"token"`
		OpenID string `json:"openid"`
	}
	require.NoError(f.t, json.Unmarshal([]byte(a.Body), &body))
	require.Equal(f.t, openID, body.OpenID)
	require.Len(f.t, body.Token, session.TokenLen)
	return body.Token
}

func (f *fixture) me(header http.Header) meBody {
	f.t.Helper()
	a := f.do(http.MethodGet, "/me", "", header)
	require.Equal(f.t, http.StatusOK, a.Status, a.Body)
	var b meBody
	require.NoError(f.t, json.Unmarshal([]byte(a.Body), &b), a.Body)
	return b
}

// refusedAsMiddleware checks that GET /me with header is refused with the
// status wantStatus, exactly as the Middleware refuses it.
func (f *fixture) refusedAsMiddleware(header http.Header, wantStatus int) {
	f.t.Helper()
	got := f.do(http.MethodGet, "/me", "", header)
	want := f.reference(header)
	assert.Equal(f.t, wantStatus, want.Status, "the Middleware's own answer")
	assert.Equal(f.t, want, got)
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// Run runs the end-to-end test of an adapter whose routes start mounts.
func Run(t *testing.T, start Start) {
	t.Run("bearer", func(t *testing.T) { runBearer(t, start) })
	t.Run("cookie and error handler", func(t *testing.T) { runCookie(t, start) })
	t.Run("concurrent", func(t *testing.T) { runConcurrent(t, start) })
}

func runBearer(t *testing.T, start Start) {
	clock := wxauthtest.NewClock(time.Now())
	f := newFixture(t, start, session.WithClock(clock.Now))
	token := f.login("o-alice")

	me := f.me(bearer(token))
	assert.Equal(t, meBody{OpenID: "o-alice", ContextOpenID: "o-alice", Tagged: true}, me)

	unknown := strings.Repeat("A", session.TokenLen) // well formed, never issued
	for name, h := range map[string]http.Header{
		"no token":      nil,
		"bad token":     bearer("not-a-token"),
		"unknown token": bearer(unknown),
		"other scheme":  {"Authorization": {"Basic " + token}},
	} {
		t.Run(name, func(t *testing.T) {
			f := *f
			f.t = t
			f.refusedAsMiddleware(h, http.StatusUnauthorized)
		})
	}
	a := f.do(http.MethodPost, "/logout", "", nil)
	assert.Equal(t, f.reference(nil), a, "logout without a token")

	a = f.do(http.MethodPost, "/logout", "", bearer(token))
	assert.Equal(t, http.StatusNoContent, a.Status, a.Body)
	assert.Empty(t, a.Body)
	f.refusedAsMiddleware(bearer(token), http.StatusUnauthorized)
	a = f.do(http.MethodPost, "/logout", "", bearer(token))
	assert.Equal(t, f.reference(bearer(token)), a, "second logout")

	token = f.login("o-alice")
	f.store.down.Store(true)
	f.refusedAsMiddleware(bearer(token), http.StatusServiceUnavailable)
	a = f.do(http.MethodPost, "/logout", "", bearer(token))
	assert.Equal(t, f.reference(bearer(token)), a, "logout while the store is down")
	f.store.down.Store(false)
	assert.Equal(t, "o-alice", f.me(bearer(token)).OpenID, "the token survives the outage")

	clock.Advance(f.m.TTL() + time.Second)
	f.refusedAsMiddleware(bearer(token), http.StatusUnauthorized) // expired_token
	assert.Contains(t, f.reference(bearer(token)).Body, session.CodeExpiredToken)
}

// zhErrors answers refusals in Chinese, keyed on the codes.
func zhErrors(w http.ResponseWriter, _ *http.Request, e *session.HTTPError) {
	msg := map[string]string{
		session.CodeInvalidToken:     "请先登录",
		session.CodeStoreUnavailable: "服务繁忙，请稍后再试",
	}[e.Code]
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": e.Code, "msg": msg})
}

func runCookie(t *testing.T, start Start) {
	f := newFixture(t, start, session.WithTokenCookie("sid"), session.WithErrorHandler(zhErrors))
	token := f.login("o-bob")
	withCookie := http.Header{"Cookie": {"theme=dark; sid=" + token}}

	assert.Equal(t, meBody{OpenID: "o-bob", ContextOpenID: "o-bob", Tagged: true}, f.me(withCookie))
	f.refusedAsMiddleware(nil, http.StatusUnauthorized)
	f.refusedAsMiddleware(bearer(token), http.StatusUnauthorized) // the Manager reads the cookie only
	f.store.down.Store(true)
	f.refusedAsMiddleware(withCookie, http.StatusServiceUnavailable)
	f.store.down.Store(false)

	a := f.do(http.MethodPost, "/logout", "", withCookie)
	assert.Equal(t, http.StatusNoContent, a.Status, a.Body)
	f.refusedAsMiddleware(withCookie, http.StatusUnauthorized)
}

// runConcurrent checks that each of many concurrent requests gets its own
// Record: frameworks that pool their contexts must not hand one request's
// Record to another.
func runConcurrent(t *testing.T, start Start) {
	f := newFixture(t, start)
	const users, rounds = 8, 10
	tokens := make([]string, users)
	for i := range tokens {
		tokens[i] = f.login(fmt.Sprintf("o-user%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, users*rounds)
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("o-user%d", i)
			for range rounds {
				if err := f.checkMe(tok, want); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkMe is GET /me for a goroutine: it reports instead of failing.
func (f *fixture) checkMe(token, want string) error {
	req, err := http.NewRequest(http.MethodGet, f.url+"/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := f.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var b meBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || b.OpenID != want || b.ContextOpenID != want || !b.Tagged {
		return fmt.Errorf("GET /me of %s: status %d, %+v", want, resp.StatusCode, b)
	}
	return nil
}
