package kuaishouauthtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/kuaishouauth/kuaishouauthtest"
)

const (
	appID  = "ks671234567890123456"
	secret = "ks-secret-0123456789"
)

func post(t *testing.T, srv *kuaishouauthtest.Server, method, path string, form url.Values) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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

func TestCode2SessionEnvelope(t *testing.T) {
	srv := kuaishouauthtest.NewServer(appID, secret)
	defer srv.Close()
	id := srv.AddUser(kuaishouauthtest.User{})
	code := srv.Login(id)
	key, err := srv.SessionKey(id)
	require.NoError(t, err)
	form := func(id, sec, code string) url.Values {
		return url.Values{"app_id": {id}, "app_secret": {sec}, "js_code": {code}}
	}
	for _, tt := range []struct {
		name   string
		method string
		form   url.Values
		result float64
	}{
		{"GET", http.MethodGet, form(appID, secret, code), 100200100},
		{"no secret", http.MethodPost, form(appID, "", code), 100200100},
		{"wrong secret", http.MethodPost, form(appID, "x", code), 100200101},
		{"wrong app", http.MethodPost, form("ks1", secret, code), 100200101},
		{"no code", http.MethodPost, form(appID, secret, ""), 100200100},
		{"unknown code", http.MethodPost, form(appID, secret, "nope"), 100200105},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := post(t, srv, tt.method, kuaishouauthtest.PathCode2Session, tt.form)
			assert.Equal(t, tt.result, m["result"])
			assert.NotEmpty(t, m["error_msg"])
		})
	}
	assert.Equal(t, map[string]any{"result": float64(1), "open_id": id, "session_key": key},
		post(t, srv, http.MethodPost, kuaishouauthtest.PathCode2Session, form(appID, secret, code)))
	assert.Equal(t, float64(100200105), post(t, srv, http.MethodPost, kuaishouauthtest.PathCode2Session, form(appID, secret, code))["result"], "used")
}

func TestAccessTokens(t *testing.T) {
	srv := kuaishouauthtest.NewServer(appID, secret)
	defer srv.Close()
	f := url.Values{"app_id": {appID}, "app_secret": {secret}, "grant_type": {"client_credentials"}}
	a := post(t, srv, http.MethodPost, kuaishouauthtest.PathAccessToken, f)
	assert.Equal(t, float64(1), a["result"])
	assert.Equal(t, float64(172800), a["expires_in"])
	assert.Equal(t, "bearer", a["token_type"])
	b := post(t, srv, http.MethodPost, kuaishouauthtest.PathAccessToken, f)
	assert.True(t, srv.TokenValid(a["access_token"].(string)), "old and new both valid")
	assert.True(t, srv.TokenValid(b["access_token"].(string)))
	assert.Equal(t, 2, srv.TokensIssued())
	f.Set("grant_type", "client_credential")
	assert.Equal(t, float64(100200100), post(t, srv, http.MethodPost, kuaishouauthtest.PathAccessToken, f)["result"])
}

func TestFaults(t *testing.T) {
	srv := kuaishouauthtest.NewServer(appID, secret)
	defer srv.Close()
	assert.Error(t, srv.FailNext("/nope", 100200500))
	assert.Error(t, srv.FailNext(kuaishouauthtest.PathCode2Session, 1))
	assert.Error(t, srv.FailNextStatus(kuaishouauthtest.PathCode2Session, 99))
	assert.NotContains(t, fmt.Sprintf("%v %#v %+v", srv, srv, srv), secret)
	_, err := srv.Profile("nobody")
	assert.ErrorIs(t, err, kuaishouauthtest.ErrUnknownUser)
	id := srv.AddUser(kuaishouauthtest.User{})
	_, err = srv.PhoneNumber(id)
	assert.ErrorIs(t, err, kuaishouauthtest.ErrNotLoggedIn)
}
