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
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// tenant is one WeChat mini-program with its own fake WeChat.
type tenant struct {
	fake *wxauthtest.Server
	app  *wxauth.App
}

func newTenant(t *testing.T, appID string) tenant {
	t.Helper()
	fake := wxauthtest.NewServer(appID, testSecret+appID)
	t.Cleanup(fake.Close)
	app, err := wxauth.New(appID, testSecret+appID, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	return tenant{fake: fake, app: app}
}

// upstreamCalls counts the calls every tenant's fake received.
func upstreamCalls(ts ...tenant) int {
	n := 0
	for _, t := range ts {
		n += t.fake.Calls("/sns/jscode2session") + t.fake.Calls("/wxa/business/getuserphonenumber")
	}
	return n
}

// multiEnv is a login service for several apps over HTTP.
type multiEnv struct {
	m   *session.Manager
	url string
}

func newMultiEnv(t *testing.T, apps miniauth.Apps, opts ...session.LoginOption) *multiEnv {
	t.Helper()
	m := newManager(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/login", session.LoginHandler(apps, m, opts...))
	mux.Handle("/phone", session.PhoneHandler(apps, m, opts...))
	mux.Handle("/me", m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"openid": rec.OpenID, "appid": rec.AppID, "platform": string(rec.Platform), "subject": rec.Subject})
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &multiEnv{m: m, url: srv.URL}
}

func (e *multiEnv) post(t *testing.T, path, token, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

func (e *multiEnv) me(t *testing.T, token string) map[string]string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+"/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var m map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return m
}

func TestTwoAppsBehindOneHandler(t *testing.T) {
	t.Parallel()
	a, b := newTenant(t, "wxaaaaaaaaaaaaaaaa"), newTenant(t, "wxbbbbbbbbbbbbbbbb")
	apps, err := miniauth.NewApps(a.app, b.app)
	require.NoError(t, err)
	e := newMultiEnv(t, apps)

	// Each code at its own fake; the record carries the app and platform.
	for _, tt := range []struct {
		ten tenant
		key string // how the front end spells the field: keys fold as encoding/json folds them
	}{{a, "appid"}, {b, "appId"}, {a, "APPID"}} {
		openID := tt.ten.fake.AddUser(wxauthtest.User{})
		code := tt.ten.fake.Login(openID)
		status, body := e.post(t, "/login", "", fmt.Sprintf(`{%q:%q,"code":%q}`, tt.key, tt.ten.app.AppID(), code))
		require.Equal(t, http.StatusOK, status, body)
		assert.Equal(t, openID, body["openid"])
		me := e.me(t, body["token"].(string))
		assert.Equal(t, tt.ten.app.AppID(), me["appid"])
		assert.Equal(t, "wechat", me["platform"])
	}
	assert.Equal(t, 2, a.fake.Calls("/sns/jscode2session"))
	assert.Equal(t, 1, b.fake.Calls("/sns/jscode2session"))

	// Refused before any call upstream: the code stays good.
	before := upstreamCalls(a, b)
	openID := a.fake.AddUser(wxauthtest.User{})
	code := a.fake.Login(openID)
	for name, body := range map[string]string{
		"no appid":         fmt.Sprintf(`{"code":%q}`, code),
		"unknown appid":    fmt.Sprintf(`{"appid":"wxnope","code":%q}`, code),
		"other platform":   fmt.Sprintf(`{"appid":%q,"platform":"douyin","code":%q}`, a.app.AppID(), code),
		"unknown platform": fmt.Sprintf(`{"appid":%q,"platform":"myspace","code":%q}`, a.app.AppID(), code),
	} {
		status, resp := e.post(t, "/login", "", body)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, session.CodeUnknownApp, resp["error"], name)
	}
	status, resp := e.post(t, "/login", "", fmt.Sprintf(`{"appid":%q,"code":%q}`, strings.Repeat("x", 200), code))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeInvalidRequest, resp["error"])
	assert.Equal(t, before, upstreamCalls(a, b), "nothing sent upstream")

	// A wrong pick fails at the platform: a code works with its own app alone.
	status, resp = e.post(t, "/login", "", fmt.Sprintf(`{"appid":%q,"code":%q}`, b.app.AppID(), code))
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, session.CodeInvalidCode, resp["error"])
	// ...and the right one still works with it.
	status, resp = e.post(t, "/login", "", fmt.Sprintf(`{"appid":%q,"code":%q}`, a.app.AppID(), code))
	assert.Equal(t, http.StatusOK, status, resp)
}

func TestPhoneHandlerUsesTheSessionsApp(t *testing.T) {
	t.Parallel()
	a, b := newTenant(t, "wxaaaaaaaaaaaaaaaa"), newTenant(t, "wxbbbbbbbbbbbbbbbb")
	apps, err := miniauth.NewApps(a.app, b.app)
	require.NoError(t, err)
	e := newMultiEnv(t, apps, session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
		if info.Phone != nil {
			info.Subject = "user:" + info.Phone.PurePhoneNumber
		}
		return nil, nil
	}))
	openID := b.fake.AddUser(wxauthtest.User{})
	status, body := e.post(t, "/login", "", fmt.Sprintf(`{"appid":%q,"code":%q}`, b.app.AppID(), b.fake.Login(openID)))
	require.Equal(t, http.StatusOK, status, body)
	token := body["token"].(string)

	phoneCode, err := b.fake.PhoneCode(openID)
	require.NoError(t, err)
	// The body's appid is not read: the session's app is used.
	status, body = e.post(t, "/phone", token, fmt.Sprintf(`{"phoneCode":%q}`, phoneCode))
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, 1, b.fake.Calls("/wxa/business/getuserphonenumber"))
	assert.Zero(t, a.fake.Calls("/wxa/business/getuserphonenumber"))
	me := e.me(t, body["token"].(string))
	assert.Equal(t, b.app.AppID(), me["appid"])
	assert.NotEmpty(t, me["subject"])
}

func TestTenantAddedAtRunTime(t *testing.T) {
	t.Parallel()
	a := newTenant(t, "wxaaaaaaaaaaaaaaaa")
	var tenants sync.Map // appid -> miniauth.Client, as filled from a database
	var lookups atomic.Int32
	dbDown := atomic.Bool{}
	apps := miniauth.AppsFunc(func(_ context.Context, appID string) (miniauth.Client, error) {
		lookups.Add(1)
		if dbDown.Load() {
			return nil, errors.New("tenants: connection refused")
		}
		c, ok := tenants.Load(appID)
		if !ok {
			return nil, fmt.Errorf("tenant %q: %w", appID, miniauth.ErrUnknownApp)
		}
		return c.(miniauth.Client), nil
	})
	e := newMultiEnv(t, apps)
	openID := a.fake.AddUser(wxauthtest.User{})
	code := a.fake.Login(openID)
	body := fmt.Sprintf(`{"appid":%q,"code":%q}`, a.app.AppID(), code)

	status, resp := e.post(t, "/login", "", body)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeUnknownApp, resp["error"])

	tenants.Store(a.app.AppID(), a.app) // the tenant signs up
	dbDown.Store(true)
	status, resp = e.post(t, "/login", "", body)
	assert.Equal(t, http.StatusServiceUnavailable, status, "a tenant database down is not the user's fault")
	assert.Equal(t, session.CodeStoreUnavailable, resp["error"])
	assert.Zero(t, a.fake.Calls("/sns/jscode2session"), "the code is unspent")

	dbDown.Store(false)
	status, resp = e.post(t, "/login", "", body)
	require.Equal(t, http.StatusOK, status, resp)
	assert.Equal(t, openID, resp["openid"])
	assert.Equal(t, int32(3), lookups.Load())
}

func TestAppIDFromPathAndReferer(t *testing.T) {
	t.Parallel()
	a, b := newTenant(t, "wxaaaaaaaaaaaaaaaa"), newTenant(t, "wxbbbbbbbbbbbbbbbb")
	apps, err := miniauth.NewApps(a.app, b.app)
	require.NoError(t, err)
	e := newMultiEnv(t, apps, session.WithAppIDFrom(session.RefererAppID))

	openID := b.fake.AddUser(wxauthtest.User{})
	ref := "https://servicewechat.com/" + b.app.AppID() + "/3/page-frame.html"
	status, body := e.post(t, "/login", "", fmt.Sprintf(`{"code":%q}`, b.fake.Login(openID)), "Referer", ref)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, openID, body["openid"])
	// The body's appid wins over the hint.
	openID = a.fake.AddUser(wxauthtest.User{})
	status, body = e.post(t, "/login", "", fmt.Sprintf(`{"appid":%q,"code":%q}`, a.app.AppID(), a.fake.Login(openID)), "Referer", ref)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, openID, body["openid"])

	for ref, want := range map[string]string{
		"https://servicewechat.com/wx123/0/page-frame.html":   "wx123",
		"https://servicewechat.com/wx123/devtools/page.html":  "wx123",
		"https://servicewechat.com/wx123":                     "",
		"https://servicewechat.com//1/page-frame.html":        "",
		"https://evil.example/servicewechat.com/wx1/1/p":      "",
		"http://servicewechat.com/wx123/0/page-frame.html":    "",
		"https://servicewechat.com/wx\x01x/0/page-frame.html": "",
	} {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.Header.Set("Referer", ref)
		assert.Equal(t, want, session.RefererAppID(r), ref)
	}
}

// stubClient is a client of another platform with no capability at all, as
// Alipay's has no rawData signature and no phone code.
type stubClient struct {
	p     miniauth.Platform
	id    string
	calls atomic.Int32
}

func (s *stubClient) Platform() miniauth.Platform { return s.p }
func (s *stubClient) AppID() string               { return s.id }
func (s *stubClient) Code2Session(_ context.Context, code string) (*miniauth.Session, error) {
	s.calls.Add(1)
	// A client of one's own may leave Platform and AppID empty: the handler fills them.
	return &miniauth.Session{OpenID: "o-" + code}, nil
}

func TestPlatformPicksAndCapabilities(t *testing.T) {
	t.Parallel()
	wx := newTenant(t, "wxaaaaaaaaaaaaaaaa")
	wecom := &stubClient{p: miniauth.WeCom, id: wx.app.AppID()} // the same mini-program opened in WeCom
	ali := &stubClient{p: miniauth.Alipay, id: "2021000000000001"}
	apps, err := miniauth.NewApps(wx.app, wecom, ali)
	require.NoError(t, err)
	e := newMultiEnv(t, apps)

	status, body := e.post(t, "/login", "", fmt.Sprintf(`{"appid":%q,"code":"c1"}`, wx.app.AppID()))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeUnknownApp, body["error"], "one appid on two platforms: ambiguous without a platform")

	status, body = e.post(t, "/login", "", fmt.Sprintf(`{"appid":%q,"platform":"wecom","code":"c1"}`, wx.app.AppID()))
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "o-c1", body["openid"])
	me := e.me(t, body["token"].(string))
	assert.Equal(t, "wecom", me["platform"])
	assert.Equal(t, wx.app.AppID(), me["appid"])
	assert.Zero(t, wx.fake.Calls("/sns/jscode2session"))

	for field, body := range map[string]string{
		"phoneCode":     `{"appid":"2021000000000001","code":"c2","phoneCode":"p1"}`,
		"rawData":       `{"appid":"2021000000000001","code":"c2","rawData":"{}","signature":"` + strings.Repeat("a", 40) + `"}`,
		"encryptedData": `{"appid":"2021000000000001","code":"c2","encryptedData":"AAAA","iv":"` + testIV + `"}`,
	} {
		status, resp := e.post(t, "/login", "", body)
		assert.Equal(t, http.StatusBadRequest, status, field)
		assert.Equal(t, session.CodeNotSupported, resp["error"], field)
		assert.Contains(t, resp["message"], "alipay", field)
	}
	assert.Zero(t, ali.calls.Load(), "refused before the code is spent")

	// A phone bind on a session of a platform without phone codes.
	status, body = e.post(t, "/login", "", `{"appid":"2021000000000001","code":"c3"}`)
	require.Equal(t, http.StatusOK, status, body)
	status, body = e.post(t, "/phone", body["token"].(string), `{"phoneCode":"p1"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeNotSupported, body["error"])
}

func TestSingleClientServesItsOwnAppOnly(t *testing.T) {
	t.Parallel()
	a := newTenant(t, "wxaaaaaaaaaaaaaaaa")
	e := newMultiEnv(t, a.app)
	openID := a.fake.AddUser(wxauthtest.User{})
	for _, body := range []string{
		fmt.Sprintf(`{"code":%q}`, a.fake.Login(openID)),
		fmt.Sprintf(`{"appid":%q,"platform":"wechat","code":%q}`, a.app.AppID(), a.fake.Login(openID)),
	} {
		status, resp := e.post(t, "/login", "", body)
		assert.Equal(t, http.StatusOK, status, resp)
	}
	status, resp := e.post(t, "/login", "", fmt.Sprintf(`{"appid":"wxother","code":%q}`, a.fake.Login(openID)))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeUnknownApp, resp["error"])
}
