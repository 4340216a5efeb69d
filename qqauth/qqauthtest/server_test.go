package qqauthtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/qqauth/qqauthtest"
)

const (
	appID  = "1112345678"
	secret = "qq-secret-0123456789"
)

// get sends a GET to the fake and decodes its JSON reply.
func get(t *testing.T, srv *qqauthtest.Server, method, path string, q url.Values) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path+"?"+q.Encode(), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func c2s(code string) url.Values {
	return url.Values{"appid": {appID}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
}

func TestCode2SessionEnvelope(t *testing.T) {
	srv := qqauthtest.NewServer(appID, secret)
	defer srv.Close()
	id := srv.AddUser(qqauthtest.User{UnionID: "UNION_1"})
	code := srv.Login(id)
	key, err := srv.SessionKey(id)
	require.NoError(t, err)

	tests := []struct {
		name    string
		method  string
		q       url.Values
		errcode float64
	}{
		{"wrong method", http.MethodPost, c2s(code), 43001},
		{"no appid", http.MethodGet, url.Values{"secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}, 41002},
		{"wrong appid", http.MethodGet, url.Values{"appid": {"1"}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}, 40013},
		{"wrong secret", http.MethodGet, url.Values{"appid": {appID}, "secret": {"x"}, "js_code": {code}, "grant_type": {"authorization_code"}}, 40001},
		{"wrong grant", http.MethodGet, url.Values{"appid": {appID}, "secret": {secret}, "js_code": {code}, "grant_type": {"x"}}, 40002},
		{"no code", http.MethodGet, c2s(""), 41008},
		{"unknown code", http.MethodGet, c2s("nope"), 40029},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := get(t, srv, tt.method, qqauthtest.PathCode2Session, tt.q)
			assert.Equal(t, tt.errcode, m["errcode"])
			assert.NotEmpty(t, m["errmsg"])
		})
	}
	// None of the refusals used the code up.
	m := get(t, srv, http.MethodGet, qqauthtest.PathCode2Session, c2s(code))
	assert.Equal(t, map[string]any{"openid": id, "session_key": key, "unionid": "UNION_1"}, m)
	m = get(t, srv, http.MethodGet, qqauthtest.PathCode2Session, c2s(code))
	assert.Equal(t, float64(40029), m["errcode"], "a used code")
	assert.Equal(t, len(tests)+2, srv.Calls(qqauthtest.PathCode2Session))
}

func TestTokensRetireTheLast(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := qqauthtest.NewServer(appID, secret, qqauthtest.WithClock(clock))
	defer srv.Close()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}
	first := get(t, srv, http.MethodGet, qqauthtest.PathToken, q)
	assert.Equal(t, float64(7200), first["expires_in"])
	tok1 := first["access_token"].(string)
	assert.True(t, srv.TokenValid(tok1))
	tok2 := get(t, srv, http.MethodGet, qqauthtest.PathToken, q)["access_token"].(string)
	assert.True(t, srv.TokenValid(tok1), "the previous token works five minutes more")
	assert.True(t, srv.TokenValid(tok2))
	mu.Lock()
	now = now.Add(qqauthtest.TokenGrace)
	mu.Unlock()
	assert.False(t, srv.TokenValid(tok1), "a fetch retires the previous token five minutes later")
	assert.True(t, srv.TokenValid(tok2))
	assert.Equal(t, tok2, srv.AccessToken())
	assert.Equal(t, float64(40001), get(t, srv, http.MethodGet, qqauthtest.PathToken, url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {"x"}})["errcode"])
}

func TestFaults(t *testing.T) {
	srv := qqauthtest.NewServer(appID, secret)
	defer srv.Close()
	assert.Error(t, srv.FailNext("/nope", 40029))
	assert.Error(t, srv.FailNext(qqauthtest.PathCode2Session, 0))
	assert.Error(t, srv.FailNextStatus(qqauthtest.PathCode2Session, 200))
	code := srv.Login("")
	require.NoError(t, srv.FailNext(qqauthtest.PathCode2Session, 45011))
	assert.Equal(t, float64(45011), get(t, srv, http.MethodGet, qqauthtest.PathCode2Session, c2s(code))["errcode"])
	m := get(t, srv, http.MethodGet, qqauthtest.PathCode2Session, c2s(code))
	assert.NotEmpty(t, m["openid"], "the injected failure did not spend the code")
	for _, s := range []string{fmt.Sprint(srv), fmt.Sprintf("%#v %+v", srv, srv)} {
		assert.NotContains(t, s, secret)
	}
	assert.Panics(t, func() { qqauthtest.NewServer("", secret) })
	_, err := qqauthtest.Start(appID, secret, qqauthtest.WithRateLimit(0))
	assert.Error(t, err)
}
