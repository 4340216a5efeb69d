// Package adaptertest is the end-to-end test that every framework adapter
// (the nested modules under github.com/wxmp/miniauth/adapters) passes: a
// silent login against [wxauthtest], a request behind the adapter's
// middleware, its refusals compared with what [session.Manager.Middleware]
// answers, phone binding, logout and logout everywhere (compared with
// session's own net/http handlers), a store that is down, cookie tokens with
// a custom error handler, and many concurrent requests, all over real HTTP
// through the framework's own server.
package adaptertest

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// Service is what an adapter's test mounts on its framework's server.
type Service struct {
	Client  miniauth.Apps
	Manager *session.Manager
	// Options are the options of the login and phone routes: a
	// session.WithOnLogin hook that gives a session with a phone its user.
	Options []session.LoginOption
}

// Start mounts s on the framework's real server, listening on
// 127.0.0.1:0, and returns its base URL ("http://127.0.0.1:port"); it stops
// the server in t.Cleanup. The routes are:
//
//	POST /login       the adapter's login route, on s.Client, s.Manager and s.Options
//	POST /phone       the adapter's phone route, on s.Client, s.Manager and s.Options
//	GET  /me          the adapter's middleware, then a handler that answers 200 with the JSON of [Me]
//	GET  /registered  the adapter's RequireSubject alone, then the handler of /me
//	GET  /me/registered  the adapter's middleware, then its RequireSubject, then the handler of /me
//	POST /logout      the adapter's logout route
//	POST /logout/all  the adapter's logout-all route
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

func (s *store) Renew(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.MemoryStore.Renew(ctx, key, rec, ttl)
}

func (s *store) DeleteSubject(ctx context.Context, subject string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.MemoryStore.DeleteSubject(ctx, subject)
}

// fixture is one started service.
type fixture struct {
	t      *testing.T
	wechat *wxauthtest.Server
	store  *store
	m      *session.Manager
	url    string
	http   *http.Client
	// net/http holds session's own handlers of the routes, which the
	// adapter's answers are compared with.
	net map[string]http.Handler
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
	// The hook gives a session with a phone the user "u-" + openid.
	linker := account.New(account.NewMemoryStore(), account.WithNewUser(
		func(_ context.Context, id account.Identity) (string, error) { return "u-" + id.OpenID, nil }))
	s := Service{Client: app, Manager: m, Options: []session.LoginOption{session.WithOnLogin(account.OnLogin(linker))}}
	f := &fixture{t: t, wechat: wechat, store: st, m: m, http: &http.Client{Timeout: 10 * time.Second},
		net: map[string]http.Handler{
			"/phone":      session.PhoneHandler(s.Client, m, s.Options...),
			"/logout":     session.LogoutHandler(m),
			"/logout/all": session.LogoutAllHandler(m),
		}}
	f.url = start(t, s)
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
	a, _ := f.send(method, path, body, header)
	return a
}

// send is do that also returns the cookies the answer sets.
func (f *fixture) send(method, path, body string, header http.Header) (answer, []*http.Cookie) {
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
	return reduce(resp.StatusCode, resp.Header, string(b)), resp.Cookies()
}

// reference is what the Manager's own net/http Middleware answers a
// request with these headers.
func (f *fixture) reference(header http.Header) answer {
	f.t.Helper()
	return f.referenceOf(f.m.Middleware, header)
}

// referenceOf is what the Manager's own net/http middleware mw answers a
// request with these headers.
func (f *fixture) referenceOf(mw func(http.Handler) http.Handler, header http.Header) answer {
	f.t.Helper()
	req := httptest.NewRequestWithContext(Tag(context.Background()), http.MethodGet, "/me", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})).ServeHTTP(w, req)
	return reduce(w.Code, w.Header(), w.Body.String())
}

// netHTTP is what session's own net/http handler of the POST route path
// answers a request with this body and these headers.
func (f *fixture) netHTTP(path, body string, header http.Header) answer {
	f.t.Helper()
	req := httptest.NewRequestWithContext(Tag(context.Background()), http.MethodPost, path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	f.net[path].ServeHTTP(w, req)
	return reduce(w.Code, w.Header(), w.Body.String())
}

// asNetHTTP checks that POST path with body and header is answered with the
// status wantStatus, exactly as session's own net/http handler answers it.
// The request must change nothing, or change nothing a second time (a
// logout).
func (f *fixture) asNetHTTP(path, body string, header http.Header, wantStatus int) {
	f.t.Helper()
	got := f.do(http.MethodPost, path, body, header)
	want := f.netHTTP(path, body, header)
	assert.Equal(f.t, wantStatus, want.Status, "the net/http handler's own answer: %s", want.Body)
	assert.Equal(f.t, want, got, "POST %s", path)
}

// loginBody is the part of the login and phone routes' answer the test reads.
type loginBody struct {
	Token      string `json:"token"`
	OpenID     string `json:"openid"`
	Registered bool   `json:"registered"`
}

// login logs the user in through POST /login and returns the token.
func (f *fixture) login(openID string) string {
	f.t.Helper()
	return f.token(openID)(f.send(http.MethodPost, "/login", `{"code":"`+f.wechat.Login(openID)+`"}`, nil))
}

// token returns a function that checks a login or phone route's answer a
// for openID, and returns its token: the body's, or in cookie mode the
// cookie's.
func (f *fixture) token(openID string) func(a answer, cookies []*http.Cookie) string {
	return func(a answer, cookies []*http.Cookie) string {
		f.t.Helper()
		require.Equal(f.t, http.StatusOK, a.Status, a.Body)
		var body loginBody
		require.NoError(f.t, json.Unmarshal([]byte(a.Body), &body))
		require.Equal(f.t, openID, body.OpenID)
		for _, c := range cookies {
			if body.Token == "" && len(c.Value) == session.TokenLen {
				body.Token = c.Value
			}
		}
		require.Len(f.t, body.Token, session.TokenLen)
		return body.Token
	}
}

// phone binds the phone of the session token through POST /phone with a
// phone code of the user openID, and returns the new token.
func (f *fixture) phone(token, openID string) string {
	f.t.Helper()
	code, err := f.wechat.PhoneCode(openID)
	require.NoError(f.t, err)
	return f.token(openID)(f.send(http.MethodPost, "/phone", `{"phoneCode":"`+code+`"}`, bearer(token)))
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
	t.Run("phone", func(t *testing.T) { runPhone(t, start) })
	t.Run("logout all", func(t *testing.T) { runLogoutAll(t, start) })
	t.Run("cookie and error handler", func(t *testing.T) { runCookie(t, start) })
	t.Run("concurrent", func(t *testing.T) { runConcurrent(t, start) })
	t.Run("require subject", func(t *testing.T) { runRequireSubject(t, start) })
	t.Run("record check", func(t *testing.T) { runRecordCheck(t, start) })
	t.Run("sliding", func(t *testing.T) { runSliding(t, start) })
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
	f.asNetHTTP("/logout", "", nil, http.StatusUnauthorized)
	f.asNetHTTP("/logout", "", bearer("not-a-token"), http.StatusUnauthorized)

	// The adapter's logout revokes the token; session's handler then
	// answers the same for the revoked token: logout is idempotent.
	f.asNetHTTP("/logout", "", bearer(token), http.StatusNoContent)
	f.refusedAsMiddleware(bearer(token), http.StatusUnauthorized)
	f.asNetHTTP("/logout", "", bearer(token), http.StatusNoContent) // a second logout

	token = f.login("o-alice")
	f.store.down.Store(true)
	f.refusedAsMiddleware(bearer(token), http.StatusServiceUnavailable)
	f.asNetHTTP("/logout", "", bearer(token), http.StatusServiceUnavailable)
	f.asNetHTTP("/logout/all", "", bearer(token), http.StatusServiceUnavailable)
	f.asNetHTTP("/phone", `{"phoneCode":"x"}`, bearer(token), http.StatusServiceUnavailable)
	f.store.down.Store(false)
	assert.Equal(t, "o-alice", f.me(bearer(token)).OpenID, "the token survives the outage")

	clock.Advance(f.m.TTL() + time.Second)
	f.refusedAsMiddleware(bearer(token), http.StatusUnauthorized) // expired_token
	assert.Contains(t, f.reference(bearer(token)).Body, session.CodeExpiredToken)
}

// runPhone binds a phone to a silent login's session: the phone route
// answers a new token that carries the hook's user, and the old token is
// refused.
func runPhone(t *testing.T, start Start) {
	f := newFixture(t, start)
	token := f.login("o-carol")
	assert.Empty(t, f.me(bearer(token)).Subject, "a silent login of a new user has no user yet")

	f.asNetHTTP("/phone", `{"phoneCode":"x"}`, nil, http.StatusUnauthorized)
	f.asNetHTTP("/phone", `{}`, bearer(token), http.StatusBadRequest) // no phoneCode

	bound := f.phone(token, "o-carol")
	assert.NotEqual(t, token, bound)
	assert.Equal(t, meBody{OpenID: "o-carol", Subject: "u-o-carol", ContextOpenID: "o-carol", Tagged: true},
		f.me(bearer(bound)))
	f.refusedAsMiddleware(bearer(token), http.StatusUnauthorized)
	f.asNetHTTP("/phone", `{"phoneCode":"x"}`, bearer(token), http.StatusUnauthorized) // the old token

	// The user is known now: a silent login finds them.
	again := f.login("o-carol")
	assert.Equal(t, "u-o-carol", f.me(bearer(again)).Subject)
}

// runLogoutAll ends every session of a user through one of their tokens,
// and no one else's.
func runLogoutAll(t *testing.T, start Start) {
	f := newFixture(t, start)
	f.wechat.AddUser(wxauthtest.User{OpenID: "o-bob", PurePhoneNumber: "13800000002"})
	phone := f.phone(f.login("o-alice"), "o-alice")
	other := f.login("o-alice") // another device of the same user
	bob := f.phone(f.login("o-bob"), "o-bob")
	require.Equal(t, "u-o-alice", f.me(bearer(other)).Subject)

	f.asNetHTTP("/logout/all", "", nil, http.StatusUnauthorized)
	a := f.do(http.MethodPost, "/logout/all", "", bearer(other))
	assert.Equal(t, http.StatusNoContent, a.Status, a.Body)
	assert.Empty(t, a.Body)
	f.refusedAsMiddleware(bearer(phone), http.StatusUnauthorized)
	f.refusedAsMiddleware(bearer(other), http.StatusUnauthorized)
	assert.Equal(t, "u-o-bob", f.me(bearer(bob)).Subject, "another user's session lives on")
	// The token no longer proves who the user is.
	f.asNetHTTP("/logout/all", "", bearer(other), http.StatusUnauthorized)

	// Sessions without a user end by their openid.
	dave := []string{f.login("o-dave"), f.login("o-dave")}
	a = f.do(http.MethodPost, "/logout/all", "", bearer(dave[1]))
	assert.Equal(t, http.StatusNoContent, a.Status, a.Body)
	f.refusedAsMiddleware(bearer(dave[0]), http.StatusUnauthorized)
	f.refusedAsMiddleware(bearer(dave[1]), http.StatusUnauthorized)
	assert.Equal(t, "u-o-bob", f.me(bearer(bob)).Subject)
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

	f.asNetHTTP("/logout/all", "", nil, http.StatusUnauthorized)
	_, cookies := f.send(http.MethodPost, "/logout", "", withCookie)
	require.Len(t, cookies, 1, "logout clears the cookie")
	assert.Equal(t, "sid", cookies[0].Name)
	assert.Empty(t, cookies[0].Value)
	assert.Negative(t, cookies[0].MaxAge)
	f.refusedAsMiddleware(withCookie, http.StatusUnauthorized)
	f.asNetHTTP("/logout", "", withCookie, http.StatusNoContent)
	f.asNetHTTP("/logout", "", withCookie, http.StatusNoContent)
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

// get is GET path with header, answered 200 with the JSON of [Me].
func (f *fixture) get(path string, header http.Header) meBody {
	f.t.Helper()
	a := f.do(http.MethodGet, path, "", header)
	require.Equal(f.t, http.StatusOK, a.Status, "GET %s: %s", path, a.Body)
	var b meBody
	require.NoError(f.t, json.Unmarshal([]byte(a.Body), &b), a.Body)
	return b
}

// refusedAs checks that GET path with header is refused with the status
// wantStatus, exactly as the Manager's own net/http middleware mw refuses
// it.
func (f *fixture) refusedAs(path string, mw func(http.Handler) http.Handler, header http.Header, wantStatus int) {
	f.t.Helper()
	got := f.do(http.MethodGet, path, "", header)
	want := f.referenceOf(mw, header)
	assert.Equal(f.t, wantStatus, want.Status, "the net/http middleware's own answer: %s", want.Body)
	assert.Equal(f.t, want, got, "GET %s", path)
}

// runRequireSubject checks the adapter's RequireSubject, alone and behind
// its middleware, against the Manager's own, with the Chinese error handler
// of runCookie: a session without a subject is refused 403 not_registered
// through it; one with a subject goes on with its Record.
func runRequireSubject(t *testing.T, start Start) {
	f := newFixture(t, start, session.WithErrorHandler(zhErrors))
	unbound := f.login("o-erin")
	bound := f.phone(f.login("o-erin"), "o-erin")
	want := meBody{OpenID: "o-erin", Subject: "u-o-erin", ContextOpenID: "o-erin", Tagged: true}
	for _, path := range []string{"/registered", "/me/registered"} {
		assert.Equal(t, want, f.get(path, bearer(bound)), path)
		f.refusedAs(path, f.m.RequireSubject, bearer(unbound), http.StatusForbidden)
		assert.Contains(t, f.do(http.MethodGet, path, "", bearer(unbound)).Body, `"code":"not_registered"`, "through the error handler")
		f.refusedAs(path, f.m.RequireSubject, nil, http.StatusUnauthorized)
		f.store.down.Store(true)
		f.refusedAs(path, f.m.RequireSubject, bearer(bound), http.StatusServiceUnavailable)
		f.store.down.Store(false)
	}
	assert.Equal(t, "", f.me(bearer(unbound)).Subject, "the middleware alone lets a session without a subject on")
}

// runRecordCheck refuses a user by the Manager's record check: every route
// that validates a token answers 403 login_refused as the Manager's own
// handlers do, a check that cannot decide 503, and the user may log out.
func runRecordCheck(t *testing.T, start Start) {
	var banned atomic.Value // the banned subject
	banned.Store("")
	var broken atomic.Bool
	f := newFixture(t, start, session.WithRecordCheck(func(ctx context.Context, rec *session.Record) error {
		switch {
		case broken.Load():
			return errors.New("users db: connection refused")
		case rec.Subject != "" && rec.Subject == banned.Load():
			return session.ErrLoginRefused
		}
		return nil
	}))
	token := f.phone(f.login("o-frank"), "o-frank")
	assert.Equal(t, "u-o-frank", f.me(bearer(token)).Subject)
	banned.Store("u-o-frank")
	f.refusedAsMiddleware(bearer(token), http.StatusForbidden)
	assert.Contains(t, f.reference(bearer(token)).Body, session.CodeLoginRefused)
	f.refusedAs("/registered", f.m.RequireSubject, bearer(token), http.StatusForbidden)
	f.asNetHTTP("/phone", `{"phoneCode":"x"}`, bearer(token), http.StatusForbidden)
	f.asNetHTTP("/logout/all", "", bearer(token), http.StatusForbidden)
	banned.Store("")
	broken.Store(true)
	f.refusedAsMiddleware(bearer(token), http.StatusServiceUnavailable)
	broken.Store(false)
	assert.Equal(t, "u-o-frank", f.me(bearer(token)).Subject, "the token survives the check's refusals")
	banned.Store("u-o-frank")
	f.asNetHTTP("/logout", "", bearer(token), http.StatusNoContent)
}

// runSliding walks a token of a Manager with an idle timeout through the
// adapter's middleware: each use extends it, and a token left unused for
// the idle timeout is refused as the Middleware refuses it.
func runSliding(t *testing.T, start Start) {
	clock := wxauthtest.NewClock(time.Now())
	const idle = 30 * time.Minute
	f := newFixture(t, start, session.WithClock(clock.Now), session.WithIdleTimeout(idle))
	token := f.login("o-grace")
	for range 4 { // two hours of use, past the idle timeout many times over
		clock.Advance(idle - time.Minute)
		assert.Equal(t, "o-grace", f.me(bearer(token)).OpenID)
	}
	clock.Advance(idle)
	f.refusedAsMiddleware(bearer(token), http.StatusUnauthorized)
	assert.Contains(t, f.reference(bearer(token)).Body, session.CodeExpiredToken)
}
