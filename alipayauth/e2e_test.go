package alipayauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
	"github.com/wxmp/miniauth/session"
)

// TestLoginHandler logs an Alipay user in through session.LoginHandler with
// the phone response of my.getPhoneNumber, as a mini-program's backend
// does.
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
	id := srv.AddUser(alipayauthtest.User{Mobile: "13912345678"})
	phone, err := srv.PhoneResponse(id)
	require.NoError(t, err)
	code := srv.AuthCode(id)
	status, m := post(map[string]string{"code": code, "phoneResponse": phone, "appid": testAppID})
	require.Equal(t, http.StatusOK, status, m)
	assert.Equal(t, id, m["openid"])
	assert.NotEmpty(t, m["token"])

	status, m = post(map[string]string{"code": code})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "invalid_code", m["error"])

	status, m = post(map[string]string{"code": srv.AuthCode(id), "phoneResponse": strings.Replace(phone, `"sign":"`, `"sign":"A`, 1)})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_phone_code", m["error"])
}
