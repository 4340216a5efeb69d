package douyinauthtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

const (
	appID  = "tt0123456789abcdef"
	secret = "app-secret-0123456789"
)

// post sends body to path with the optional access-token and decodes the
// JSON reply into a map.
func post(t *testing.T, srv *douyinauthtest.Server, path, body, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("access-token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return resp.StatusCode, m
}

func login(code, anon string) string {
	b, _ := json.Marshal(map[string]string{"appid": appID, "secret": secret, "code": code, "anonymous_code": anon})
	return string(b)
}

func TestCode2SessionEnvelope(t *testing.T) {
	t.Parallel()
	srv := douyinauthtest.NewServer(appID, secret)
	defer srv.Close()
	openid := srv.AddUser(douyinauthtest.User{UnionID: "u-1"})
	code := srv.Login(openid)
	_, m := post(t, srv, douyinauthtest.PathCode2Session, login(code, ""), "")
	assert.EqualValues(t, 0, m["err_no"])
	assert.Equal(t, "success", m["err_tips"])
	assert.NotEmpty(t, m["log_id"])
	data := m["data"].(map[string]any)
	key, err := srv.SessionKey(openid)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"session_key": key, "openid": openid, "anonymous_openid": "", "unionid": "u-1", "dopenid": ""}, data)

	for name, tt := range map[string]struct {
		body string
		code float64
	}{
		"used code":      {login(code, ""), 40018},
		"unknown code":   {login("nope", ""), 40018},
		"bad anonymous":  {login("", "nope"), 40019},
		"no codes":       {login("", ""), 40014},
		"not JSON":       {"code=1", 40014},
		"wrong appid":    {strings.Replace(login("x", ""), appID, "tt-other", 1), 40015},
		"wrong secret":   {strings.Replace(login("x", ""), secret, "nope", 1), 40017},
		"missing secret": {`{"appid":"` + appID + `","code":"x"}`, 40014},
	} {
		_, m := post(t, srv, douyinauthtest.PathCode2Session, tt.body, "")
		assert.Equal(t, tt.code, m["err_no"], name)
		assert.NotEmpty(t, m["err_tips"], name)
		assert.Nil(t, m["data"], name)
	}
}

func TestHTTPFaults(t *testing.T) {
	t.Parallel()
	srv := douyinauthtest.NewServer(appID, secret)
	defer srv.Close()
	resp, err := http.Get(srv.URL + douyinauthtest.PathCode2Session)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Post(srv.URL+"/api/apps/v2/unknown", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	status, _ := post(t, srv, douyinauthtest.PathCode2Session, strings.Repeat("x", 1<<20+1), "")
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)

	require.NoError(t, srv.FailNextStatus(douyinauthtest.PathPhoneNumber, 502))
	status, _ = post(t, srv, douyinauthtest.PathPhoneNumber, `{}`, "")
	assert.Equal(t, 502, status)
	assert.Error(t, srv.FailNextStatus(douyinauthtest.PathPhoneNumber, 200))
	assert.Error(t, srv.FailNext("/nope", 1))
	assert.Error(t, srv.FailNext(douyinauthtest.PathPhoneNumber, 0))
	assert.Equal(t, 3, srv.Calls(douyinauthtest.PathCode2Session)+srv.Calls(douyinauthtest.PathPhoneNumber))
}

// TestFailNextEnvelopes: an injected code comes in its endpoint's envelope
// and spends nothing.
func TestFailNextEnvelopes(t *testing.T) {
	t.Parallel()
	srv := douyinauthtest.NewServer(appID, secret)
	defer srv.Close()
	code := srv.Login("")
	require.NoError(t, srv.FailNext(douyinauthtest.PathCode2Session, -1))
	_, m := post(t, srv, douyinauthtest.PathCode2Session, login(code, ""), "")
	assert.EqualValues(t, -1, m["err_no"])
	assert.Equal(t, "system error", m["err_tips"])
	_, m = post(t, srv, douyinauthtest.PathCode2Session, login(code, ""), "")
	assert.EqualValues(t, 0, m["err_no"], "the injected failure spent no code")

	require.NoError(t, srv.FailNext(douyinauthtest.PathClientToken, 10013, douyinauthtest.WithErrMsg("no")))
	_, m = post(t, srv, douyinauthtest.PathClientToken, `{}`, "")
	assert.Equal(t, "error", m["message"])
	assert.Equal(t, map[string]any{"error_code": float64(10013), "description": "no", "captcha": "", "desc_url": ""}, m["data"])

	require.NoError(t, srv.FailNext(douyinauthtest.PathPhoneNumber, 28001005))
	_, m = post(t, srv, douyinauthtest.PathPhoneNumber, `{}`, "")
	assert.EqualValues(t, 28001005, m["err_no"])
	assert.NotEmpty(t, m["err_msg"])
	assert.NotEmpty(t, m["log_id"])
}

// TestClientTokenRule: a new client_token shortens the previous one to 5
// minutes; only the two newest live.
func TestClientTokenRule(t *testing.T) {
	t.Parallel()
	clock := douyinauthtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := douyinauthtest.NewServer(appID, secret, douyinauthtest.WithClock(clock.Now))
	defer srv.Close()
	body := `{"client_key":"` + appID + `","client_secret":"` + secret + `","grant_type":"client_credential"}`
	token := func() string {
		_, m := post(t, srv, douyinauthtest.PathClientToken, body, "")
		require.Equal(t, "success", m["message"])
		d := m["data"].(map[string]any)
		assert.EqualValues(t, 7200, d["expires_in"])
		assert.EqualValues(t, 0, d["error_code"])
		return d["access_token"].(string)
	}
	works := func(tok string) bool {
		code, err := srv.PhoneCode(srv.AddUser(douyinauthtest.User{}))
		require.NoError(t, err)
		_, m := post(t, srv, douyinauthtest.PathPhoneNumber, `{"code":"`+code+`"}`, tok)
		return m["err_no"] == float64(0)
	}
	t1 := token()
	assert.True(t, strings.HasPrefix(t1, "clt."))
	t2 := token()
	assert.True(t, works(t1), "the previous token has 5 minutes left")
	clock.Advance(douyinauthtest.TokenGrace)
	assert.False(t, works(t1))
	assert.True(t, works(t2))
	t3 := token()
	t4 := token()
	assert.False(t, works(t2), "only the two newest live")
	assert.True(t, works(t3))
	assert.True(t, works(t4))
	clock.Advance(douyinauthtest.TokenTTL)
	assert.False(t, works(t4))

	for name, tt := range map[string]struct {
		body string
		code float64
	}{
		"wrong secret":  {strings.Replace(body, secret, "nope", 1), 10013},
		"unknown key":   {strings.Replace(body, appID, "tt-x", 1), 10003},
		"no grant_type": {`{"client_key":"` + appID + `","client_secret":"` + secret + `"}`, 10002},
	} {
		_, m := post(t, srv, douyinauthtest.PathClientToken, tt.body, "")
		assert.Equal(t, "error", m["message"], name)
		assert.Equal(t, tt.code, m["data"].(map[string]any)["error_code"], name)
	}
}

func TestStableClientTokenRule(t *testing.T) {
	t.Parallel()
	clock := douyinauthtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := douyinauthtest.NewServer(appID, secret, douyinauthtest.WithClock(clock.Now))
	defer srv.Close()
	body := `{"client_key":"` + appID + `","client_secret":"` + secret + `","grant_type":"client_credential"}`
	get := func() (string, float64) {
		_, m := post(t, srv, douyinauthtest.PathStableClientToken, body, "")
		d := m["data"].(map[string]any)
		return d["access_token"].(string), d["expires_in"].(float64)
	}
	a, in := get()
	assert.EqualValues(t, 7200, in)
	clock.Advance(time.Hour)
	b, in := get()
	assert.Equal(t, a, b, "the same token within its lifetime")
	assert.EqualValues(t, 3600, in)
	clock.Advance(time.Hour)
	c, in := get()
	assert.NotEqual(t, a, c)
	assert.EqualValues(t, 7200, in)
}

func TestPhoneErrors(t *testing.T) {
	t.Parallel()
	srv := douyinauthtest.NewServer(appID, secret)
	defer srv.Close()
	code, err := srv.PhoneCode(srv.AddUser(douyinauthtest.User{}))
	require.NoError(t, err)
	_, m := post(t, srv, douyinauthtest.PathPhoneNumber, `{"code":"`+code+`"}`, "")
	assert.EqualValues(t, 28001007, m["err_no"], "no token")
	_, m = post(t, srv, douyinauthtest.PathPhoneNumber, `{"code":"`+code+`"}`, "clt.unknown")
	assert.EqualValues(t, 28001008, m["err_no"], "unknown token")
	assert.Equal(t, "", m["data"])
	_, err = srv.PhoneCode("nobody")
	assert.ErrorIs(t, err, douyinauthtest.ErrUnknownUser)
	_, err = srv.SessionKey("nobody")
	assert.ErrorIs(t, err, douyinauthtest.ErrUnknownUser)
	srv.AddUser(douyinauthtest.User{OpenID: "_000new"})
	_, err = srv.Profile("_000new")
	assert.ErrorIs(t, err, douyinauthtest.ErrNotLoggedIn)
}

func TestStartRefuses(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func() error{
		"empty appid":  func() error { _, err := douyinauthtest.Start("", secret); return err },
		"empty secret": func() error { _, err := douyinauthtest.Start(appID, ""); return err },
		"nil clock":    func() error { _, err := douyinauthtest.Start(appID, secret, douyinauthtest.WithClock(nil)); return err },
		"bad latency": func() error {
			_, err := douyinauthtest.Start(appID, secret, douyinauthtest.WithLatency(-1))
			return err
		},
		"bad key": func() error {
			_, err := douyinauthtest.Start(appID, secret, douyinauthtest.WithAppPublicKey("x"))
			return err
		},
	} {
		assert.Error(t, f(), name)
	}
	assert.Panics(t, func() { douyinauthtest.NewServer("", "") })
}
