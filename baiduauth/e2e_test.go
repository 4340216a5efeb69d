package baiduauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
	"github.com/wxmp/miniauth/session"
)

// TestLoginHandler logs a Baidu user in through session.LoginHandler with
// the phone button's encrypted data, as a smart program's backend does; the
// front end sends the AppKey as appid.
func TestLoginHandler(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	api := httptest.NewServer(session.LoginHandler(app, session.NewManager(nil)))
	t.Cleanup(api.Close)
	post := func(body any) (int, map[string]any) {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		resp, err := api.Client().Post(api.URL, "application/json", strings.NewReader(string(b)))
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}
	id := srv.AddUser(baiduauthtest.User{Mobile: "15012345678"})
	code := srv.Login(id)
	enc, err := srv.Phone(id)
	require.NoError(t, err)
	status, m := post(map[string]string{"code": code, "appid": testAppKey, "phoneEncryptedData": enc.Data, "phoneIv": enc.IV})
	require.Equal(t, http.StatusOK, status, m)
	assert.Equal(t, id, m["openid"])
	assert.NotEmpty(t, m["token"])

	// Data encrypted under the key of an earlier login no longer decrypts.
	code = srv.Login(id)
	status, m = post(map[string]string{"code": code, "phoneEncryptedData": enc.Data, "phoneIv": enc.IV})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_phone_code", m["error"])

	status, m = post(map[string]string{"code": srv.Login(id), "appid": "another-app-key"})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "unknown_app", m["error"])
}
