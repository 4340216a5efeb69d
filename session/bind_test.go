package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// bindStores are the built-in stores the bind and logout races run on.
var bindStores = []struct {
	name string
	open func(t *testing.T) session.Store
}{
	{"Memory", func(t *testing.T) session.Store {
		s, err := session.NewMemoryStore()
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"Redis", func(t *testing.T) session.Store {
		c := redistest.Client(t)
		s, err := redisstore.New(c, redisstore.WithKeyPrefix(redistest.Prefix(t, c)))
		require.NoError(t, err)
		return s
	}},
	{"RedisCluster", func(t *testing.T) session.Store {
		c := redistest.StartCluster(t)
		s, err := redisstore.New(c, redisstore.WithKeyPrefix(redistest.Prefix(t, c)))
		require.NoError(t, err)
		return s
	}},
}

// bindEnv is a login and phone endpoint on a store, against the fake
// WeChat, with a hook that makes the phone's owner "user-" + the phone.
type bindEnv struct {
	fake         *wxauthtest.Server
	m            *session.Manager
	login, phone http.Handler
	logoutAll    http.Handler
}

func newBindEnv(t *testing.T, store session.Store, opts ...session.Option) *bindEnv {
	t.Helper()
	fake := wxauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(fake.Close)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	m := newManager(t, store, opts...)
	hook := session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
		if info.Phone != nil {
			info.Subject = "user-" + info.Phone.PurePhoneNumber
		}
		return map[string]any{"registered": info.Subject != ""}, nil
	})
	return &bindEnv{fake: fake, m: m,
		login: session.LoginHandler(app, m, hook), phone: session.PhoneHandler(app, m, hook),
		logoutAll: session.LogoutAllHandler(m)}
}

// post sends body to h with the bearer token and returns the status and
// the decoded answer.
func (e *bindEnv) post(t *testing.T, h http.Handler, token string, body map[string]string) (int, map[string]any) {
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(b)))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var resp map[string]any
	if w.Body.Len() > 0 {
		assert.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp), w.Body.String())
	}
	return w.Code, resp
}

// silentLogin logs openID in without a phone and returns its token.
func (e *bindEnv) silentLogin(t *testing.T, openID string) string {
	t.Helper()
	status, body := e.post(t, e.login, "", map[string]string{"code": e.fake.Login(openID)})
	require.Equal(t, http.StatusOK, status, body)
	return body["token"].(string)
}

// TestOneTokenPerBind races 8 phone binds with one old token, each with a
// valid phone code of its own: exactly one gets a new token, the others are
// refused 401 without spending their codes, in each of 20 trials, on the
// memory store and on Redis.
func TestOneTokenPerBind(t *testing.T) {
	for _, st := range bindStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			e := newBindEnv(t, st.open(t))
			const trials, binds = 20, 8
			for range trials {
				openID := e.fake.AddUser(wxauthtest.User{})
				old := e.silentLogin(t, openID)
				codes := make([]string, binds)
				for i := range codes {
					c, err := e.fake.PhoneCode(openID)
					require.NoError(t, err)
					codes[i] = c
				}
				spentBefore := e.fake.Calls(wxauthtest.PathPhoneNumber)
				start := make(chan struct{})
				statuses := make([]int, binds)
				tokens := make([]string, binds)
				var wg sync.WaitGroup
				for i := range binds {
					wg.Go(func() {
						<-start
						status, body := e.post(t, e.phone, old, map[string]string{"phoneCode": codes[i]})
						statuses[i] = status
						if tok, ok := body["token"].(string); ok {
							tokens[i] = tok
						} else {
							assert.Equal(t, session.CodeInvalidToken, body["error"], "a bind that lost the race")
						}
					})
				}
				close(start)
				wg.Wait()
				won := 0
				for i, s := range statuses {
					if s == http.StatusOK {
						won++
						_, err := e.m.Validate(context.Background(), tokens[i])
						require.NoError(t, err, "the winner's token is valid")
					} else {
						require.Equal(t, http.StatusUnauthorized, s)
					}
				}
				require.Equal(t, 1, won, "tokens won by %d concurrent binds with one token: %v", binds, statuses)
				require.Equal(t, 1, e.fake.Calls(wxauthtest.PathPhoneNumber)-spentBefore, "phone codes spent")
				_, err := e.m.Validate(context.Background(), old)
				require.ErrorIs(t, err, session.ErrInvalidToken, "the old token is gone")
			}
		})
	}
}

// TestBindGivesTokenBack: a bind that fails before its new token is issued
// leaves the old token valid.
func TestBindGivesTokenBack(t *testing.T) {
	for _, st := range bindStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			e := newBindEnv(t, st.open(t))
			openID := e.fake.AddUser(wxauthtest.User{})
			old := e.silentLogin(t, openID)
			status, body := e.post(t, e.phone, old, map[string]string{"phoneCode": "not-a-code-of-wechat"})
			require.Equal(t, http.StatusBadRequest, status, body)
			require.Equal(t, session.CodeInvalidPhoneCode, body["error"])
			rec, err := e.m.Validate(context.Background(), old)
			require.NoError(t, err, "a refused phone code does not log the user out")
			assert.Equal(t, openID, rec.OpenID)
			require.NoError(t, e.fake.FailNext(wxauthtest.PathPhoneNumber, -1))
			pc, err := e.fake.PhoneCode(openID)
			require.NoError(t, err)
			status, _ = e.post(t, e.phone, old, map[string]string{"phoneCode": pc})
			require.Equal(t, http.StatusBadGateway, status)
			_, err = e.m.Validate(context.Background(), old)
			require.NoError(t, err, "WeChat down does not log the user out")
			status, body = e.post(t, e.phone, old, map[string]string{"phoneCode": pc})
			require.Equal(t, http.StatusOK, status, body)
		})
	}
}

// TestLogoutEverywhereAfterBind: two devices log in silently (sessions of
// the openid, without a subject); one binds the phone (a session of the
// user); logout everywhere from it ends every session of the user,
// the other device's from before the bind included, on the memory store
// and on Redis.
func TestLogoutEverywhereAfterBind(t *testing.T) {
	for _, st := range bindStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			e := newBindEnv(t, st.open(t))
			openID := e.fake.AddUser(wxauthtest.User{})
			phoneDevice := e.silentLogin(t, openID)
			otherDevice := e.silentLogin(t, openID)
			pc, err := e.fake.PhoneCode(openID)
			require.NoError(t, err)
			status, body := e.post(t, e.phone, phoneDevice, map[string]string{"phoneCode": pc})
			require.Equal(t, http.StatusOK, status, body)
			bound := body["token"].(string)
			rec, err := e.m.Validate(context.Background(), bound)
			require.NoError(t, err)
			require.NotEmpty(t, rec.Subject)

			status, _ = e.post(t, e.logoutAll, bound, nil)
			require.Equal(t, http.StatusNoContent, status)
			alive := 0
			for _, tok := range []string{phoneDevice, otherDevice, bound} {
				if _, err := e.m.Validate(context.Background(), tok); err == nil {
					alive++
				}
			}
			require.Zero(t, alive, "sessions alive after logout everywhere")

			// RevokeAll of the subject (after account's Linker.Delete, say)
			// does the same.
			again := e.silentLogin(t, openID)
			pc, err = e.fake.PhoneCode(openID)
			require.NoError(t, err)
			status, body = e.post(t, e.phone, e.silentLogin(t, openID), map[string]string{"phoneCode": pc})
			require.Equal(t, http.StatusOK, status, body)
			require.NoError(t, e.m.RevokeAll(context.Background(), rec.Subject))
			for _, tok := range []string{again, body["token"].(string)} {
				_, err := e.m.Validate(context.Background(), tok)
				require.ErrorIs(t, err, session.ErrInvalidToken)
			}
		})
	}
}

// blockingBind returns a phone handler on e's Manager whose hook signals
// inBind, waits for proceed, and then fails when fail is set: a bind held
// between its claim of the token and its new token.
func (e *bindEnv) blockingBind(t *testing.T, fail bool) (h http.Handler, inBind, proceed chan struct{}) {
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(e.fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	inBind, proceed = make(chan struct{}), make(chan struct{})
	h = session.PhoneHandler(app, e.m, session.WithOnLogin(func(context.Context, *session.LoginInfo) (map[string]any, error) {
		close(inBind)
		<-proceed
		if fail {
			return nil, errors.New("test: the account database failed")
		}
		return nil, nil
	}))
	return h, inBind, proceed
}

// TestRevocationDuringBind: a logout of the token, or a RevokeAll of its
// openid or of its subject, that runs while a phone bind holds the token
// out of the store ends the session whatever the bind does next: a failed
// bind does not give the token back, and a bind that succeeds has its new
// token ended and answers 401. A session issued after the revocation is
// not touched by its mark. On each store.
func TestRevocationDuringBind(t *testing.T) {
	for _, st := range bindStores {
		for _, revoke := range []string{"logout", "revokeAll-openid", "revokeAll-subject"} {
			for _, fail := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/bindFails=%v", st.name, revoke, fail), func(t *testing.T) {
					t.Parallel()
					e := newBindEnv(t, st.open(t))
					openID := e.fake.AddUser(wxauthtest.User{})
					old := e.silentLogin(t, openID)
					owner := openID
					if revoke == "revokeAll-subject" { // bind once for a session of the user
						pc, err := e.fake.PhoneCode(openID)
						require.NoError(t, err)
						status, body := e.post(t, e.phone, old, map[string]string{"phoneCode": pc})
						require.Equal(t, http.StatusOK, status, body)
						old = body["token"].(string)
						rec, err := e.m.Validate(context.Background(), old)
						require.NoError(t, err)
						owner = rec.Subject
					}
					phone, inBind, proceed := e.blockingBind(t, fail)
					pc, err := e.fake.PhoneCode(openID)
					require.NoError(t, err)
					type answer struct {
						status int
						body   map[string]any
					}
					done := make(chan answer)
					go func() {
						status, body := e.post(t, phone, old, map[string]string{"phoneCode": pc})
						done <- answer{status, body}
					}()
					<-inBind
					if revoke == "logout" {
						status, _ := e.post(t, session.LogoutHandler(e.m), old, nil)
						require.Equal(t, http.StatusNoContent, status)
					} else {
						require.NoError(t, e.m.RevokeAll(context.Background(), owner))
					}
					close(proceed)
					a := <-done
					require.NotEqual(t, http.StatusOK, a.status, "a bind whose session was revoked meanwhile: %v", a.body)
					if !fail {
						assert.Equal(t, http.StatusUnauthorized, a.status)
						assert.Equal(t, session.CodeInvalidToken, a.body["error"])
					}
					_, err = e.m.Validate(context.Background(), old)
					require.ErrorIs(t, err, session.ErrInvalidToken, "the revoked token came back")

					fresh := e.silentLogin(t, openID)
					status, _ := e.post(t, e.phone, fresh, map[string]string{"phoneCode": "not-a-code-of-wechat"})
					require.Equal(t, http.StatusBadRequest, status)
					_, err = e.m.Validate(context.Background(), fresh)
					require.NoError(t, err, "a session issued after the revocation is given back")
				})
			}
		}
	}
}

// TestBindKeepsTheLifetime: the token a phone bind issues ends when the
// old one would have: binding again and again does not keep a session past
// its TTL.
func TestBindKeepsTheLifetime(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	store, err := session.NewMemoryStore(session.WithMemoryClock(clock))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	e := newBindEnv(t, store, session.WithTTL(24*time.Hour), session.WithClock(clock))
	openID := e.fake.AddUser(wxauthtest.User{})
	token := e.silentLogin(t, openID)
	first, err := e.m.Validate(context.Background(), token)
	require.NoError(t, err)
	for i := range 3 {
		advance(7 * time.Hour)
		pc, err := e.fake.PhoneCode(openID)
		require.NoError(t, err)
		status, body := e.post(t, e.phone, token, map[string]string{"phoneCode": pc})
		require.Equal(t, http.StatusOK, status, "bind %d: %v", i, body)
		token = body["token"].(string)
		rec, err := e.m.Validate(context.Background(), token)
		require.NoError(t, err)
		assert.Equal(t, first.ExpiresAt, rec.ExpiresAt, "bind %d: the session ends when the first did", i)
		assert.EqualValues(t, (24*time.Hour-time.Duration(i+1)*7*time.Hour)/time.Second, body["expiresIn"])
	}
	advance(3*time.Hour + time.Second)
	_, err = e.m.Validate(context.Background(), token)
	assert.ErrorIs(t, err, session.ErrExpired, "24 hours after the login, binds or not")
}

// TestLogoutDuringBindOnAnInstanceWhoseClockIsBehind: the instance that
// logs the token out runs a second behind the one that issued it and binds
// it. The logout's mark names the token alone, so it ends the session
// whatever the clocks say.
func TestLogoutDuringBindOnAnInstanceWhoseClockIsBehind(t *testing.T) {
	t.Parallel()
	store, err := session.NewMemoryStore()
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	ahead := newBindEnv(t, store, session.WithClock(func() time.Time { return time.Now().Add(time.Second) }))
	behind := newManager(t, store)
	openID := ahead.fake.AddUser(wxauthtest.User{})
	old := ahead.silentLogin(t, openID)
	phone, inBind, proceed := ahead.blockingBind(t, true)
	pc, err := ahead.fake.PhoneCode(openID)
	require.NoError(t, err)
	done := make(chan int)
	go func() {
		status, _ := ahead.post(t, phone, old, map[string]string{"phoneCode": pc})
		done <- status
	}()
	<-inBind
	require.NoError(t, behind.Revoke(context.Background(), old))
	close(proceed)
	assert.NotEqual(t, http.StatusOK, <-done)
	_, err = ahead.m.Validate(context.Background(), old)
	require.ErrorIs(t, err, session.ErrInvalidToken, "the logged-out token came back")
}
