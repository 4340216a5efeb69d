package douyinauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
	"github.com/wxmp/miniauth/session"
)

// TestLoginHandler logs a Douyin user in through session.LoginHandler, with
// their phone number, as a mini-app's backend does.
func TestLoginHandler(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	api := httptest.NewServer(session.LoginHandler(app, session.NewManager(nil)))
	t.Cleanup(api.Close)
	openid := srv.AddUser(douyinauthtest.User{UnionID: "u-42"})
	post := func(body string) (int, map[string]any) {
		resp, err := api.Client().Post(api.URL, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}
	code := srv.Login(openid)
	phone, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	status, m := post(`{"code":"` + code + `","phoneCode":"` + phone + `","platform":"douyin"}`)
	require.Equal(t, http.StatusOK, status, m)
	assert.Equal(t, openid, m["openid"])
	assert.Equal(t, "u-42", m["unionid"])
	assert.NotEmpty(t, m["token"])

	status, m = post(`{"code":"` + code + `"}`)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "invalid_code", m["error"])

	status, m = post(`{"code":"` + srv.Login(openid) + `","phoneCode":"` + phone + `"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_phone_code", m["error"], "a used phone code")
}

// TestPhoneHandler binds a phone number to a Douyin session through
// session.PhoneHandler: a new token comes back, the old one ends.
func TestPhoneHandler(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	m := session.NewManager(nil)
	mux := http.NewServeMux()
	mux.Handle("/login", session.LoginHandler(app, m))
	mux.Handle("/phone", session.PhoneHandler(app, m))
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)
	post := func(path, token, body string) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, api.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := api.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}
	openid := srv.AddUser(douyinauthtest.User{})
	status, login := post("/login", "", `{"code":"`+srv.Login(openid)+`"}`)
	require.Equal(t, http.StatusOK, status, login)
	old := login["token"].(string)
	phone, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	status, bound := post("/phone", old, `{"phoneCode":"`+phone+`"}`)
	require.Equal(t, http.StatusOK, status, bound)
	assert.NotEqual(t, old, bound["token"])
	assert.Equal(t, openid, bound["openid"])
	status, _ = post("/phone", old, `{"phoneCode":"`+phone+`"}`)
	assert.Equal(t, http.StatusUnauthorized, status, "the old token ended")
}
