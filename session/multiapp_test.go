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
	"github.com/wxmp/miniauth/crypto"
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

// phoneStub is a client of a platform whose phone number reaches the server
// as Alipay's signed response, or as Baidu's encrypted data.
type phoneStub struct {
	stubClient
	key string // the session key Code2Session hands out
}

func (s *phoneStub) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	sess, err := s.stubClient.Code2Session(ctx, code)
	if err == nil {
		sess.SessionKey = s.key
	}
	return sess, err
}

// DecryptPhone accepts the response "signed:<number>" and nothing else.
func (s *phoneStub) DecryptPhone(response string) (*miniauth.PhoneNumber, error) {
	if response == "unconfigured" {
		return nil, errors.New("stub: no AES key configured")
	}
	n, ok := strings.CutPrefix(response, "signed:")
	if !ok {
		return nil, fmt.Errorf("stub: bad signature: %w", miniauth.ErrInvalidPhoneCode)
	}
	return &miniauth.PhoneNumber{PhoneNumber: n, PurePhoneNumber: n}, nil
}

// Decrypt decrypts as WeChat does, without a watermark check.
func (s *phoneStub) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	plain, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

// aliStub has Alipay's capability alone: DecryptPhone, no Decrypt.
type aliStub struct{ s *phoneStub }

func (a aliStub) Platform() miniauth.Platform { return a.s.Platform() }
func (a aliStub) AppID() string               { return a.s.AppID() }
func (a aliStub) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	return a.s.Code2Session(ctx, code)
}
func (a aliStub) DecryptPhone(response string) (*miniauth.PhoneNumber, error) {
	return a.s.DecryptPhone(response)
}

func TestPhoneResponseAndEncryptedPhone(t *testing.T) {
	t.Parallel()
	ali := &phoneStub{stubClient: stubClient{p: miniauth.Alipay, id: "2021000000000001"}}
	bd := &phoneStub{stubClient: stubClient{p: miniauth.Baidu, id: "baidukey1"}, key: testKey}
	apps, err := miniauth.NewApps(aliStub{ali}, bd)
	require.NoError(t, err)
	var phones sync.Map // openid -> phone the hook saw
	e := newMultiEnv(t, apps, session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
		if info.Phone != nil {
			phones.Store(info.Session.OpenID, info.Phone.PhoneNumber)
			info.Subject = "u-" + info.Phone.PhoneNumber
		}
		return nil, nil
	}))

	// Alipay: the response of my.getPhoneNumber, in the login.
	status, body := e.post(t, "/login", "", `{"appid":"2021000000000001","code":"a1","phoneResponse":"signed:13800138000"}`)
	require.Equal(t, http.StatusOK, status, body)
	got, _ := phones.Load("o-a1")
	assert.Equal(t, "13800138000", got)
	status, body = e.post(t, "/login", "", `{"appid":"2021000000000001","code":"a2","phoneResponse":"forged:13800138000"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeInvalidPhoneCode, body["error"])
	// A server without its AES key is misconfigured: not the user's fault.
	status, body = e.post(t, "/login", "", `{"appid":"2021000000000001","code":"a2","phoneResponse":"unconfigured"}`)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, session.CodeServerError, body["error"])

	// Baidu: encrypted data, in a phone bind after a silent login.
	status, body = e.post(t, "/login", "", `{"appid":"baidukey1","code":"b1"}`)
	require.Equal(t, http.StatusOK, status, body)
	token := body["token"].(string)
	enc, err := crypto.Encrypt(testKey, testIV, []byte(`{"phoneNumber":"13900139000","purePhoneNumber":"13900139000","countryCode":"86"}`))
	require.NoError(t, err)
	status, body = e.post(t, "/phone", token, fmt.Sprintf(`{"phoneEncryptedData":%q,"phoneIv":%q}`, enc, testIV))
	require.Equal(t, http.StatusOK, status, body)
	got, _ = phones.Load("o-b1")
	assert.Equal(t, "13900139000", got)
	assert.Equal(t, "u-13900139000", e.me(t, body["token"].(string))["subject"])

	// Refusals of form, before anything is spent.
	calls := ali.calls.Load()
	for name, tt := range map[string]struct {
		body, code string
	}{
		"two phone fields": {`{"appid":"2021000000000001","code":"a3","phoneCode":"p","phoneResponse":"signed:1"}`, session.CodeInvalidRequest},
		"data without iv":  {`{"appid":"baidukey1","code":"b3","phoneEncryptedData":"AAAA"}`, session.CodeInvalidRequest},
		"bad iv":           {`{"appid":"baidukey1","code":"b3","phoneEncryptedData":"AAAA","phoneIv":"xx"}`, session.CodeInvalidRequest},
		"code on alipay":   {`{"appid":"2021000000000001","code":"a3","phoneCode":"p1"}`, session.CodeNotSupported},
		"data on alipay":   {`{"appid":"2021000000000001","code":"a3","phoneEncryptedData":"AAAA","phoneIv":"` + testIV + `"}`, session.CodeNotSupported},
		"too long":         {`{"appid":"2021000000000001","code":"a3","phoneResponse":"` + strings.Repeat("x", 9000) + `"}`, session.CodeInvalidRequest},
	} {
		status, resp := e.post(t, "/login", "", tt.body)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, tt.code, resp["error"], name)
	}
	assert.Equal(t, calls, ali.calls.Load(), "no code spent")

	// Encrypted data that does not decrypt with the session key.
	other, err := crypto.Encrypt(otherKey, testIV, []byte(`{"phoneNumber":"13900139000"}`))
	require.NoError(t, err)
	status, body = e.post(t, "/login", "", fmt.Sprintf(`{"appid":"baidukey1","code":"b4","phoneEncryptedData":%q,"phoneIv":%q}`, other, testIV))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeInvalidPhoneCode, body["error"])
}

// TestPhoneBindOfASessionWithoutAnAppID: a session issued by hand without
// an appid binds a phone only where one app is served; where several are,
// the request cannot pick one (WithAppIDFrom is for logins), and the bind
// is refused 400 unknown_app before any phone code is spent.
func TestPhoneBindOfASessionWithoutAnAppID(t *testing.T) {
	t.Parallel()
	a, b := newTenant(t, "wxaaaaaaaaaaaaaaaa"), newTenant(t, "wxbbbbbbbbbbbbbbbb")
	apps, err := miniauth.NewApps(a.app, b.app)
	require.NoError(t, err)
	e := newMultiEnv(t, apps, session.WithAppIDFrom(func(*http.Request) string { return b.app.AppID() }))
	openID := b.fake.AddUser(wxauthtest.User{})
	sess, err := b.app.Code2Session(context.Background(), b.fake.Login(openID))
	require.NoError(t, err)
	key := sess.SessionKey
	token, err := e.m.Issue(context.Background(), &miniauth.Session{OpenID: openID, SessionKey: key})
	require.NoError(t, err)
	phoneCode, err := b.fake.PhoneCode(openID)
	require.NoError(t, err)
	status, body := e.post(t, "/phone", token, fmt.Sprintf(`{"phoneCode":%q}`, phoneCode))
	assert.Equal(t, http.StatusBadRequest, status, body)
	assert.Equal(t, session.CodeUnknownApp, body["error"])
	assert.Equal(t, 1, upstreamCalls(a, b), "no phone code spent (the one call: the login above)")

	single := newMultiEnv(t, b.app)
	token, err = single.m.Issue(context.Background(), &miniauth.Session{OpenID: openID, SessionKey: key})
	require.NoError(t, err)
	status, body = single.post(t, "/phone", token, fmt.Sprintf(`{"phoneCode":%q}`, phoneCode))
	assert.Equal(t, http.StatusOK, status, body)
}
