package wxauthtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	tpAppID  = "wx0c0e1f2a3b4c5d6e"
	tpSecret = "c0mp0nent-s3cret-0123456789abcdef"
	tpToken  = "pushTokenQ7x2"
	tpApp    = "wxa1b2c3d4e5f60718"
)

// tpEnv is a component fake, a push receiver that records what WeChat
// pushed (and decrypts nothing: the fake is checked by wxauth's tests
// for that), and a clock.
type tpEnv struct {
	fake  *wxauthtest.ComponentServer
	clock *wxauthtest.Clock
	sink  *httptest.Server
}

func newTPEnv(t *testing.T) *tpEnv {
	t.Helper()
	clk := wxauthtest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	fake := wxauthtest.NewComponentServer(tpAppID, tpSecret, tpToken, wxauthtest.NewEncodingAESKey(), wxauthtest.WithClock(clk.Now))
	t.Cleanup(fake.Close)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(sink.Close)
	return &tpEnv{fake: fake, clock: clk, sink: sink}
}

// call makes a request to the fake and decodes its JSON reply.
func (e *tpEnv) call(t *testing.T, method, path string, q url.Values, body any) map[string]any {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, e.fake.URL+path+"?"+q.Encode(), r)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func errcode(m map[string]any) int {
	if n, ok := m["errcode"].(float64); ok {
		return int(n)
	}
	return 0
}

func (e *tpEnv) componentToken(t *testing.T, ticket string) map[string]any {
	return e.call(t, http.MethodPost, wxauthtest.PathComponentToken, nil, map[string]string{
		"component_appid": tpAppID, "component_appsecret": tpSecret, "component_verify_ticket": ticket,
	})
}

func (e *tpEnv) login(t *testing.T, tok, appID, code string) map[string]any {
	return e.call(t, http.MethodGet, wxauthtest.PathComponentCode2Session, url.Values{
		"appid": {appID}, "js_code": {code}, "grant_type": {"authorization_code"},
		"component_appid": {tpAppID}, "component_access_token": {tok},
	}, nil)
}

// TestComponentServerTokens: tickets mint component tokens for 12 hours;
// each mint retires the previous token after the grace period.
func TestComponentServerTokens(t *testing.T) {
	t.Parallel()
	e := newTPEnv(t)
	assert.Equal(t, 61006, errcode(e.componentToken(t, "ticket@@@never-pushed")))
	require.NoError(t, e.fake.PushTicket(context.Background(), e.sink.URL))
	ticket := e.fake.Ticket()
	require.True(t, strings.HasPrefix(ticket, "ticket@@@"))

	for name, tc := range map[string]struct {
		body map[string]string
		want int
	}{
		"no appid":      {map[string]string{"component_appsecret": tpSecret, "component_verify_ticket": ticket}, 41002},
		"other appid":   {map[string]string{"component_appid": "wxother", "component_appsecret": tpSecret, "component_verify_ticket": ticket}, 61011},
		"no secret":     {map[string]string{"component_appid": tpAppID, "component_verify_ticket": ticket}, 41004},
		"wrong secret":  {map[string]string{"component_appid": tpAppID, "component_appsecret": "x", "component_verify_ticket": ticket}, 40125},
		"wrong ticket":  {map[string]string{"component_appid": tpAppID, "component_appsecret": tpSecret, "component_verify_ticket": "t"}, 61006},
		"empty request": {map[string]string{}, 41002},
	} {
		assert.Equal(t, tc.want, errcode(e.call(t, http.MethodPost, wxauthtest.PathComponentToken, nil, tc.body)), name)
	}
	assert.Equal(t, 43002, errcode(e.call(t, http.MethodGet, wxauthtest.PathComponentToken, nil, nil)))

	r := e.componentToken(t, ticket)
	require.Zero(t, errcode(r))
	first := r["component_access_token"].(string)
	assert.EqualValues(t, 7200, r["expires_in"])

	mp, _ := e.fake.Authorize(tpApp)
	e.clock.Advance(time.Minute)
	second := e.componentToken(t, ticket)["component_access_token"].(string)
	require.NotEqual(t, first, second, "each call mints a new token")
	assert.Zero(t, errcode(e.login(t, first, tpApp, mp.Login(""))), "the previous token in its grace period")
	e.clock.Advance(wxauthtest.TokenGrace)
	assert.Equal(t, 40001, errcode(e.login(t, first, tpApp, mp.Login(""))))
	assert.Zero(t, errcode(e.login(t, second, tpApp, mp.Login(""))))
	e.clock.Advance(wxauthtest.TokenTTL)
	assert.Equal(t, 42001, errcode(e.login(t, second, tpApp, mp.Login(""))))

	e.clock.Advance(wxauthtest.TicketTTL - wxauthtest.TokenTTL)
	assert.Equal(t, 61005, errcode(e.componentToken(t, ticket)), "a ticket lives 12 hours")
}

// TestComponentServerLogin: component jscode2session refuses what WeChat
// refuses, and serves codes of authorizer apps once.
func TestComponentServerLogin(t *testing.T) {
	t.Parallel()
	e := newTPEnv(t)
	require.NoError(t, e.fake.PushTicket(context.Background(), e.sink.URL))
	tok := e.componentToken(t, e.fake.Ticket())["component_access_token"].(string)
	mp, _ := e.fake.Authorize(tpApp)
	openid := mp.AddUser(wxauthtest.User{UnionID: "union-1"})
	code := mp.Login(openid)

	assert.Equal(t, 41001, errcode(e.login(t, "", tpApp, code)))
	assert.Equal(t, 40001, errcode(e.login(t, "not-a-token", tpApp, code)))
	assert.Equal(t, 61003, errcode(e.login(t, tok, "wxnotauthorized00", code)))
	assert.Equal(t, 41002, errcode(e.login(t, tok, "", code)))
	assert.Equal(t, 40029, errcode(e.login(t, tok, tpApp, "unknown-code")))
	assert.Equal(t, 41008, errcode(e.login(t, tok, tpApp, "")))
	r := e.login(t, tok, tpApp, code)
	require.Zero(t, errcode(r))
	assert.Equal(t, openid, r["openid"])
	assert.Equal(t, "union-1", r["unionid"])
	assert.NotEmpty(t, r["session_key"])
	assert.Equal(t, 40163, errcode(e.login(t, tok, tpApp, code)))

	e.fake.Unauthorize(tpApp)
	assert.Equal(t, 61003, errcode(e.login(t, tok, tpApp, mp.Login(openid))))
	assert.Equal(t, 9, e.fake.Calls(wxauthtest.PathComponentCode2Session))
	assert.Nil(t, e.fake.App("wxnever"))
	assert.Same(t, mp, e.fake.App(tpApp))
}

// TestComponentServerAuthorizer: authorizer tokens from refresh tokens and
// authorization codes, and phone numbers with them.
func TestComponentServerAuthorizer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTPEnv(t)
	require.NoError(t, e.fake.PushTicket(ctx, e.sink.URL))
	tok := e.componentToken(t, e.fake.Ticket())["component_access_token"].(string)
	q := url.Values{"component_access_token": {tok}}
	mp, rt := e.fake.Authorize(tpApp)
	authToken := func(refresh string) map[string]any {
		return e.call(t, http.MethodPost, wxauthtest.PathAuthorizerToken, q, map[string]string{
			"component_appid": tpAppID, "authorizer_appid": tpApp, "authorizer_refresh_token": refresh,
		})
	}
	assert.Equal(t, 61023, errcode(authToken("refreshtoken@@@wrong")))
	r := authToken(rt)
	require.Zero(t, errcode(r))
	assert.Equal(t, rt, r["authorizer_refresh_token"], "the refresh token does not rotate")
	at := r["authorizer_access_token"].(string)

	openid := mp.AddUser(wxauthtest.User{PurePhoneNumber: "13700000000"})
	phone := func(token, code string) map[string]any {
		return e.call(t, http.MethodPost, wxauthtest.PathPhoneNumber, url.Values{"access_token": {token}},
			map[string]string{"code": code, "openid": openid})
	}
	code, err := mp.PhoneCode(openid)
	require.NoError(t, err)
	assert.Equal(t, 40001, errcode(phone("not-a-token", code)))
	assert.Equal(t, 40001, errcode(phone(tok, code)), "the component token is not the app's")
	r = phone(at, code)
	require.Zero(t, errcode(r), r)
	info := r["phone_info"].(map[string]any)
	assert.Equal(t, "13700000000", info["purePhoneNumber"])
	assert.Equal(t, tpApp, info["watermark"].(map[string]any)["appid"])

	// Authorization codes, pushed with the authorized event, work once.
	var pushed []string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pushed = append(pushed, r.URL.Query().Get("msg_signature"))
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(sink.Close)
	require.NoError(t, e.fake.PushEvent(ctx, sink.URL, "authorized", "wxb2c3d4e5f6071829"))
	require.Len(t, pushed, 1)
	assert.Len(t, pushed[0], 40)
	assert.NotNil(t, e.fake.App("wxb2c3d4e5f6071829"))
	assert.Equal(t, 61009, errcode(e.call(t, http.MethodPost, wxauthtest.PathQueryAuth, q, map[string]string{
		"component_appid": tpAppID, "authorization_code": "queryauthcode@@@unknown",
	})))

	e.fake.Unauthorize(tpApp)
	assert.Equal(t, 61003, errcode(authToken(rt)))
}

// TestComponentServerPush: pushes reach the handler signed, and anything
// but "success" is a PushError.
func TestComponentServerPush(t *testing.T) {
	t.Parallel()
	e := newTPEnv(t)
	var got url.Values
	var body string
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		http.Error(w, "nope", http.StatusForbidden)
	}))
	t.Cleanup(h.Close)
	err := e.fake.PushTicket(context.Background(), h.URL+"/cb?keep=1")
	var pe *wxauthtest.PushError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusForbidden, pe.StatusCode)
	assert.Equal(t, "1", got.Get("keep"), "the handler URL's own query is kept")
	assert.Equal(t, "aes", got.Get("encrypt_type"))
	for _, k := range []string{"timestamp", "nonce", "signature", "msg_signature"} {
		assert.NotEmpty(t, got.Get(k), k)
	}
	assert.Equal(t, fmt.Sprint(e.clock.Now().Unix()), got.Get("timestamp"))
	assert.Contains(t, body, "<AppId><![CDATA["+tpAppID+"]]></AppId>")
	assert.Contains(t, body, "<Encrypt><![CDATA[")
	assert.NotContains(t, body, e.fake.Ticket(), "the ticket travels encrypted")

	require.Error(t, e.fake.FailNext("/cgi-bin/nope", 40001))
	require.Error(t, e.fake.FailNext(wxauthtest.PathComponentToken, 0))
	require.NoError(t, e.fake.FailNext(wxauthtest.PathComponentToken, -1))
	assert.Equal(t, -1, errcode(e.componentToken(t, e.fake.Ticket())))

	printed := fmt.Sprintf("%v %+v %#v %s", e.fake, e.fake, e.fake, e.fake)
	assert.NotContains(t, printed, tpSecret)
	assert.Contains(t, printed, tpAppID)

	_, err = wxauthtest.StartComponent(tpAppID, tpSecret, tpToken, "short")
	require.Error(t, err)
	_, err = wxauthtest.StartComponent("", tpSecret, tpToken, wxauthtest.NewEncodingAESKey())
	require.Error(t, err)
}
