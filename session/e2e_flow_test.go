package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// users is an application's user table, as a login hook keeps it: openid
// and phone bound to the application's own user ids.
type users struct {
	mu      sync.Mutex
	byOpen  map[string]string
	byPhone map[string]string
}

func newUsers() *users { return &users{byOpen: map[string]string{}, byPhone: map[string]string{}} }

func (u *users) bind(openID, phone string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := fmt.Sprintf("user-%d", len(u.byOpen)+1)
	u.byOpen[openID] = id
	if phone != "" {
		u.byPhone[phone] = id
	}
	return id
}

// subjectOf returns the user bound to a phone number.
func (u *users) subjectOf(phone string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byPhone[phone]
}

// onLogin binds by the rules of the design: openid known, that user; else a
// phone: bind it; else a session without a subject, {"registered": false}.
func (u *users) onLogin(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
	u.mu.Lock()
	id := u.byOpen[info.Session.OpenID]
	u.mu.Unlock()
	switch {
	case id != "":
	case info.Phone != nil:
		id = u.bind(info.Session.OpenID, info.Phone.PhoneNumber)
	default:
		return map[string]any{"registered": false}, nil
	}
	info.Subject = id
	return map[string]any{"registered": true}, nil
}

// flowEnv is a login service over HTTP, against the fake WeChat.
type flowEnv struct {
	fake  *wxauthtest.Server
	m     *session.Manager
	users *users
	url   string
}

func newFlowEnv(t *testing.T, opts ...session.Option) *flowEnv {
	t.Helper()
	fake := wxauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(fake.Close)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	m := newManager(t, nil, opts...)
	u := newUsers()
	hook := session.WithOnLogin(u.onLogin)
	mux := http.NewServeMux()
	mux.Handle("/login", session.LoginHandler(app, m, hook))
	mux.Handle("/phone", session.PhoneHandler(app, m, hook))
	mux.Handle("/logout", session.LogoutHandler(m))
	mux.Handle("/me", m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"openid": rec.OpenID, "subject": rec.Subject, "appid": rec.AppID})
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &flowEnv{fake: fake, m: m, users: u, url: srv.URL}
}

// call sends a request with the bearer token (when not empty) and returns
// the status, the decoded JSON body and the response.
func (e *flowEnv) call(t *testing.T, method, path, token, body string, hdr ...string) (int, map[string]any, *http.Response) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.NotContains(t, string(b), testSecret)
	var m map[string]any
	if len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &m), string(b))
	}
	return resp.StatusCode, m, resp
}

func (e *flowEnv) login(t *testing.T, fields map[string]string) (int, map[string]any) {
	t.Helper()
	status, body, _ := e.call(t, http.MethodPost, "/login", "", loginBody(t, fields))
	return status, body
}

func (e *flowEnv) phoneCode(t *testing.T, openID string) string {
	t.Helper()
	c, err := e.fake.PhoneCode(openID)
	require.NoError(t, err)
	return c
}

// me returns the status of GET /me with token and the subject it reports.
func (e *flowEnv) me(t *testing.T, token string) (int, string) {
	t.Helper()
	status, body, _ := e.call(t, http.MethodGet, "/me", token, "")
	s, _ := body["subject"].(string)
	return status, s
}

func tokenOf(t *testing.T, body map[string]any) string {
	t.Helper()
	tok, _ := body["token"].(string)
	require.Len(t, tok, session.TokenLen, "an answer with a token: %v", body)
	return tok
}

func TestFlowSilentLogin(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	newcomer := e.fake.AddUser(wxauthtest.User{})
	known := e.fake.AddUser(wxauthtest.User{})
	knownID := e.users.bind(known, "13900000000")

	status, body := e.login(t, map[string]string{"code": e.fake.Login(newcomer)})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, false, body["registered"], "the hook says the openid is not bound yet")
	assert.Equal(t, newcomer, body["openid"])
	status, subject := e.me(t, tokenOf(t, body))
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, subject, "a session without a subject")

	status, body = e.login(t, map[string]string{"code": e.fake.Login(known)})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, true, body["registered"])
	status, subject = e.me(t, tokenOf(t, body))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, knownID, subject)
	assert.Zero(t, e.fake.Calls(wxauthtest.PathPhoneNumber), "a silent login costs no phone exchange")
}

func TestFlowOneShotPhoneLogin(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	id := e.fake.AddUser(wxauthtest.User{PurePhoneNumber: "13711112222"})
	status, body := e.login(t, map[string]string{"code": e.fake.Login(id), "phoneCode": e.phoneCode(t, id)})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, true, body["registered"])
	_, subject := e.me(t, tokenOf(t, body))
	assert.NotEmpty(t, subject)
	assert.Equal(t, subject, e.users.subjectOf("13711112222"), "the hook bound the phone WeChat gave")
	assert.Equal(t, 1, e.fake.Calls(wxauthtest.PathPhoneNumber))
}

func TestFlowBadLoginCodeKeepsThePhoneCode(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	id := e.fake.AddUser(wxauthtest.User{})
	pc := e.phoneCode(t, id)
	used := e.fake.Login(id)
	status, body := e.login(t, map[string]string{"code": used})
	require.Equal(t, http.StatusOK, status, body)

	for _, code := range []string{"no-such-code", used} {
		status, body = e.login(t, map[string]string{"code": code, "phoneCode": pc})
		assert.Equal(t, http.StatusUnauthorized, status, body)
		assert.NotContains(t, body, "token")
	}
	assert.Zero(t, e.fake.Calls(wxauthtest.PathPhoneNumber), "a refused login does not spend the phone code")

	// The same phone code with a fresh wx.login code works.
	status, body = e.login(t, map[string]string{"code": e.fake.Login(id), "phoneCode": pc})
	require.Equal(t, http.StatusOK, status, body)
	_, subject := e.me(t, tokenOf(t, body))
	assert.NotEmpty(t, subject)
}

func TestFlowBadPhoneCode(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	id := e.fake.AddUser(wxauthtest.User{})
	other := e.fake.AddUser(wxauthtest.User{})
	foreign, err := e.fake.ForeignPhoneCode(id)
	require.NoError(t, err)
	spent := e.phoneCode(t, id)
	status, _ := e.login(t, map[string]string{"code": e.fake.Login(id), "phoneCode": spent})
	require.Equal(t, http.StatusOK, status)

	for name, pc := range map[string]string{
		"unknown":        "e31968a7f94cc5ee25fafc2aef2773f0",
		"used":           spent,
		"another user's": e.phoneCode(t, other),
		"another app's":  foreign,
		"malformed":      "a b",
		"over 256 bytes": strings.Repeat("a", 257),
	} {
		status, body := e.login(t, map[string]string{"code": e.fake.Login(id), "phoneCode": pc})
		want := session.CodeInvalidPhoneCode
		if name == "malformed" || name == "over 256 bytes" {
			want = session.CodeInvalidRequest
		}
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, want, body["error"], name)
		assert.NotContains(t, body, "token", name)
	}
}

func TestFlowPhoneHandlerRotatesTheToken(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	id := e.fake.AddUser(wxauthtest.User{UnionID: "oUnion-carol", PurePhoneNumber: "13600001111"})
	other := e.fake.AddUser(wxauthtest.User{})
	status, body := e.login(t, map[string]string{"code": e.fake.Login(id)})
	require.Equal(t, http.StatusOK, status, body)
	old := tokenOf(t, body)

	// Refusals leave the old token as it was.
	for name, c := range map[string]struct {
		token, body string
		status      int
		code        string
	}{
		"no token":            {"", `{"phoneCode":"x"}`, 401, session.CodeInvalidToken},
		"bad token":           {"abc", `{"phoneCode":"x"}`, 401, session.CodeInvalidToken},
		"no phoneCode":        {old, `{}`, 400, session.CodeInvalidRequest},
		"repeated field":      {old, `{"phoneCode":"a","PHONECODE":"b"}`, 400, session.CodeInvalidRequest},
		"another user's code": {old, `{"phoneCode":"` + e.phoneCode(t, other) + `"}`, 400, session.CodeInvalidPhoneCode},
		"not JSON":            {old, `phoneCode`, 400, session.CodeInvalidRequest},
	} {
		status, body, resp := e.call(t, http.MethodPost, "/phone", c.token, c.body)
		assert.Equal(t, c.status, status, name)
		assert.Equal(t, c.code, body["error"], name)
		if c.status == 401 {
			assert.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"), name)
		}
	}
	status, subject := e.me(t, old)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, subject)

	status, body, _ = e.call(t, http.MethodPost, "/phone", old, `{"phoneCode":"`+e.phoneCode(t, id)+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	fresh := tokenOf(t, body)
	assert.NotEqual(t, old, fresh)
	assert.Equal(t, id, body["openid"])
	assert.Equal(t, "oUnion-carol", body["unionid"])
	assert.InDelta(t, 86400, body["expiresIn"], 5, "the new token ends when the old one would have")
	assert.LessOrEqual(t, body["expiresIn"], float64(86400))
	assert.Equal(t, true, body["registered"])

	status, _ = e.me(t, old)
	assert.Equal(t, http.StatusUnauthorized, status, "the old token is revoked")
	status, subject = e.me(t, fresh)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, e.users.subjectOf("13600001111"), subject)
	assert.NotEmpty(t, subject)
	rec, err := e.m.Validate(context.Background(), fresh)
	require.NoError(t, err)
	assert.Equal(t, testAppID, rec.AppID, "the new session keeps the app, openid, unionid and key")
	assert.Equal(t, "oUnion-carol", rec.UnionID)
	key, err := e.fake.SessionKey(id)
	require.NoError(t, err)
	assert.Equal(t, key, rec.SessionKey)

	// A session with a subject: the hook sees it pre-set.
	status, body, _ = e.call(t, http.MethodPost, "/phone", fresh, `{"phoneCode":"`+e.phoneCode(t, id)+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	_, again := e.me(t, tokenOf(t, body))
	assert.Equal(t, subject, again)
}

func TestFlowLogout(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	id := e.fake.AddUser(wxauthtest.User{})
	_, body := e.login(t, map[string]string{"code": e.fake.Login(id)})
	token := tokenOf(t, body)

	status, body, resp := e.call(t, http.MethodPost, "/logout", token, "")
	assert.Equal(t, http.StatusNoContent, status)
	assert.Nil(t, body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	status, _ = e.me(t, token)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _, _ = e.call(t, http.MethodPost, "/logout", token, "")
	assert.Equal(t, http.StatusNoContent, status, "a repeated logout is no error")

	for name, tok := range map[string]string{"no token": "", "malformed": "abc"} {
		status, body, resp = e.call(t, http.MethodPost, "/logout", tok, "")
		assert.Equal(t, http.StatusUnauthorized, status, name)
		assert.Equal(t, session.CodeInvalidToken, body["error"], name)
		assert.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"), name)
	}
	status, body, resp = e.call(t, http.MethodGet, "/logout", token, "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	assert.Equal(t, http.MethodPost, resp.Header.Get("Allow"))
	assert.Equal(t, session.CodeMethodNotAllowed, body["error"])
}

func TestLogoutHandlerStoreDown(t *testing.T) {
	t.Parallel()
	store := newSpyStore()
	log, logs := debugLogger()
	m := newManager(t, store, session.WithLogger(log))
	token, err := m.Issue(context.Background(), testSession())
	require.NoError(t, err)
	store.fail(errDown)
	r := httptest.NewRequest(http.MethodPost, "/logout", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rr := serve(t, session.LogoutHandler(m), r)
	assert.Equal(t, http.StatusServiceUnavailable, rr.Code)
	code, _ := errorJSON(t, rr)
	assert.Equal(t, session.CodeStoreUnavailable, code)
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
	assert.NotContains(t, logs.String(), token)
}

func TestFlowHandlersMisconfigured(t *testing.T) {
	t.Parallel()
	client := newFakeClient(t, testSession(), nil)
	m := newManager(t, nil)
	bad := session.NewManager(nil, session.WithTTL(-1))
	token, err := m.Issue(context.Background(), testSession())
	require.NoError(t, err)
	for name, h := range map[string]http.Handler{
		"phone: client without GetPhoneNumber": session.PhoneHandler(plainClient{client}, m),
		"phone: nil client":                    session.PhoneHandler(nil, m),
		"phone: nil manager":                   session.PhoneHandler(client, nil),
		"phone: bad manager":                   session.PhoneHandler(client, bad),
		"logout: nil manager":                  session.LogoutHandler(nil),
		"logout: bad manager":                  session.LogoutHandler(bad),
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"phoneCode":"pc"}`))
		r.Header.Set("Authorization", "Bearer "+token)
		rr := serve(t, h, r)
		assert.Equal(t, http.StatusInternalServerError, rr.Code, name)
		code, _ := errorJSON(t, rr)
		assert.Equal(t, session.CodeServerError, code, name)
	}
	assert.Zero(t, client.phoneCalls.Load())
}

func TestFlowProfiles(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	alice := e.fake.AddUser(wxauthtest.User{NickName: "Alice", UnionID: "oUnion-alice"})
	bob := e.fake.AddUser(wxauthtest.User{NickName: "Bob"})

	// getUserProfile: no openId, no unionId in encryptedData. A profile.
	code := e.fake.Login(alice)
	p, err := e.fake.Profile(alice)
	require.NoError(t, err)
	status, body := e.login(t, map[string]string{"code": code, "rawData": p.RawData, "signature": p.Signature,
		"encryptedData": p.EncryptedData, "iv": p.IV})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, alice, body["openid"])
	assert.Equal(t, "Alice", body["userInfo"].(map[string]any)["nickName"])

	// getUserInfo of the same user: the ids match.
	code = e.fake.Login(alice)
	p, err = e.fake.UserInfo(alice)
	require.NoError(t, err)
	status, body = e.login(t, map[string]string{"code": code, "encryptedData": p.EncryptedData, "iv": p.IV})
	require.Equal(t, http.StatusOK, status, body)

	// getUserInfo data of another user, under this login's key (what a
	// client that rewrote it would send): refused.
	e.fake.Login(bob)
	bobsKey, err := e.fake.SessionKey(bob)
	require.NoError(t, err)
	theirs, err := e.fake.UserInfo(bob)
	require.NoError(t, err)
	plain, err := crypto.Decrypt(bobsKey, theirs.EncryptedData, theirs.IV)
	require.NoError(t, err)
	code = e.fake.Login(alice)
	alicesKey, err := e.fake.SessionKey(alice)
	require.NoError(t, err)
	forged, err := crypto.Encrypt(alicesKey, theirs.IV, plain)
	require.NoError(t, err)
	status, body = e.login(t, map[string]string{"code": code, "encryptedData": forged, "iv": theirs.IV})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, session.CodeIdentityMismatch, body["error"])

	// As it was made, under the other user's key: it does not decrypt.
	status, body = e.login(t, map[string]string{"code": e.fake.Login(alice), "encryptedData": theirs.EncryptedData, "iv": theirs.IV})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeDecryptFailed, body["error"])
}

func TestFlowCookieMode(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, session.WithTokenCookie("sid"))
	id := e.fake.AddUser(wxauthtest.User{})
	crossSite := []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}

	// Cross-origin browser requests with an unsafe method are refused before
	// anything is spent, on every handler and behind the middleware.
	pc := e.phoneCode(t, id)
	for _, path := range []string{"/login", "/phone", "/logout", "/me"} {
		status, body, _ := e.call(t, http.MethodPost, path, "", loginBody(t, map[string]string{"code": e.fake.Login(id), "phoneCode": pc}), crossSite...)
		assert.Equal(t, http.StatusForbidden, status, path)
		assert.Equal(t, session.CodeCrossOrigin, body["error"], path)
	}
	assert.Zero(t, e.fake.Calls(wxauthtest.PathCode2Session))
	assert.Zero(t, e.fake.Calls(wxauthtest.PathPhoneNumber))

	// Login (same origin) sets the cookie; the token is not in the body.
	status, body, resp := e.call(t, http.MethodPost, "/login", "", loginBody(t, map[string]string{"code": e.fake.Login(id)}),
		"Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusOK, status, body)
	assert.NotContains(t, body, "token", "a script must not read an HttpOnly cookie's value from the body")
	c := tokenCookie(t, resp)
	assert.Len(t, c.Value, session.TokenLen)
	assert.True(t, c.HttpOnly)
	assert.True(t, c.Secure)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.Equal(t, 86400, c.MaxAge)
	old := c.Value

	cookie := []string{"Cookie", "sid=" + old}
	status, body, _ = e.call(t, http.MethodGet, "/me", "", "", append(cookie, crossSite...)...)
	assert.Equal(t, http.StatusOK, status, "a safe method is not checked")
	assert.Equal(t, id, body["openid"])

	// The phone handler rotates the cookie.
	status, body, resp = e.call(t, http.MethodPost, "/phone", "", `{"phoneCode":"`+pc+`"}`, cookie...)
	require.Equal(t, http.StatusOK, status, body)
	assert.NotContains(t, body, "token")
	fresh := tokenCookie(t, resp).Value
	assert.NotEqual(t, old, fresh)
	status, _, _ = e.call(t, http.MethodGet, "/me", "", "", cookie...)
	assert.Equal(t, http.StatusUnauthorized, status)

	// Logout revokes and clears it.
	status, _, resp = e.call(t, http.MethodPost, "/logout", "", "", "Cookie", "sid="+fresh)
	assert.Equal(t, http.StatusNoContent, status)
	cleared := tokenCookie(t, resp)
	assert.Empty(t, cleared.Value)
	assert.Negative(t, cleared.MaxAge, "Max-Age=0: the browser drops it")
	status, _, _ = e.call(t, http.MethodGet, "/me", "", "", "Cookie", "sid="+fresh)
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestBearerModeHasNoOriginCheck(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t)
	id := e.fake.AddUser(wxauthtest.User{})
	status, body, resp := e.call(t, http.MethodPost, "/login", "", loginBody(t, map[string]string{"code": e.fake.Login(id)}),
		"Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusOK, status, "a bearer token is not sent by the browser on its own: no CSRF")
	assert.Empty(t, resp.Cookies(), "no cookie outside cookie mode")
	tokenOf(t, body)
}

func tokenCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "sid" {
			return c
		}
	}
	t.Fatalf("no sid cookie in %v", resp.Header["Set-Cookie"])
	return nil
}
