package qqauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/qqauth"
)

// mockApp returns a client whose requests go to an httpmock transport of its
// own, at QQ's real host.
func mockApp(t *testing.T) (*httpmock.MockTransport, *qqauth.App) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	app, err := qqauth.New(testAppID, testSecret, qqauth.WithHTTPClient(&http.Client{Transport: mt}), qqauth.WithRetry(0))
	require.NoError(t, err)
	return mt, app
}

// TestCode2SessionWire checks the request against QQ's page: GET
// https://api.q.qq.com/sns/jscode2session?appid=APPID&secret=SECRET&js_code=JSCODE&grant_type=authorization_code
// (https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_login.html#code2session,
// mirrored at https://w3cschool.cn/qqxiaochengxu/qqxiaochengxu-c5fl3875.html).
func TestCode2SessionWire(t *testing.T) {
	mt, app := mockApp(t)
	var got *http.Request
	mt.RegisterResponder(http.MethodGet, "https://api.q.qq.com/sns/jscode2session", func(r *http.Request) (*http.Response, error) {
		got = r
		return httpmock.NewStringResponse(200, `{"openid":"OPENID0123456789","session_key":"AAAAAAAAAAAAAAAAAAAAAA==","unionid":"UNIONID0123"}`), nil
	})
	sess, err := app.Code2Session(context.Background(), "CODE_0123456789")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, url.Values{
		"appid": {testAppID}, "secret": {testSecret}, "js_code": {"CODE_0123456789"}, "grant_type": {"authorization_code"},
	}, got.URL.Query())
	assert.Equal(t, "OPENID0123456789", sess.OpenID)
	assert.Equal(t, "UNIONID0123", sess.UnionID)
	assert.Equal(t, "AAAAAAAAAAAAAAAAAAAAAA==", sess.SessionKey)
}

func TestCode2SessionReplies(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
		code int
	}{
		// QQ's documented envelope and codes.
		{"invalid code", `{"errcode":40029,"errmsg":"invalid code"}`, miniauth.ErrInvalidCode, 40029},
		{"rate limit", `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, miniauth.ErrRateLimited, 45011},
		{"busy", `{"errcode":-1,"errmsg":"system error"}`, miniauth.ErrSystemBusy, -1},
		{"errcode as a string", `{"errcode":"40029","errmsg":"invalid code"}`, miniauth.ErrInvalidCode, 40029},
		{"unknown errcode", `{"errcode":61234,"errmsg":"something"}`, nil, 61234},
		{"not JSON", `<html>`, miniauth.ErrBadResponse, 0},
		{"no openid", `{"session_key":"AAAAAAAAAAAAAAAAAAAAAA=="}`, miniauth.ErrBadResponse, 0},
		{"openid with a newline", `{"openid":"a\nb","session_key":"AAAAAAAAAAAAAAAAAAAAAA=="}`, miniauth.ErrBadResponse, 0},
		{"short session_key", `{"openid":"OPENID","session_key":"AAAA"}`, miniauth.ErrBadResponse, 0},
		{"bad unionid", `{"openid":"OPENID","session_key":"AAAAAAAAAAAAAAAAAAAAAA==","unionid":"` + strings.Repeat("u", 200) + `"}`, miniauth.ErrBadResponse, 0},
		{"over 1 MiB", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, miniauth.ErrBadResponse, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, app := mockApp(t)
			mt.RegisterResponder(http.MethodGet, "https://api.q.qq.com/sns/jscode2session", httpmock.NewStringResponder(200, tt.body))
			_, err := app.Code2Session(context.Background(), "CODE_0123456789")
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			var ae *qqauth.APIError
			if tt.code != 0 {
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.code, ae.Code)
			} else {
				assert.False(t, errors.As(err, &ae))
			}
		})
	}
}

// TestGetTokenWire checks GET /api/getToken?grant_type=client_credential&appid&secret
// (https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_use.html).
func TestGetTokenWire(t *testing.T) {
	mt, app := mockApp(t)
	var got url.Values
	mt.RegisterResponder(http.MethodGet, "https://api.q.qq.com/api/getToken", func(r *http.Request) (*http.Response, error) {
		got = r.URL.Query()
		return httpmock.NewStringResponse(200, `{"access_token":"TOKEN_0123456789","expires_in":7200}`), nil
	})
	tok, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "TOKEN_0123456789", tok)
	assert.Equal(t, url.Values{"grant_type": {"client_credential"}, "appid": {testAppID}, "secret": {testSecret}}, got)

	mt2, app2 := mockApp(t)
	mt2.RegisterResponder(http.MethodGet, "https://api.q.qq.com/api/getToken", httpmock.NewStringResponder(200, `{"errcode":40001,"errmsg":"invalid credential"}`))
	_, err = app2.AccessToken(context.Background())
	assert.ErrorIs(t, err, miniauth.ErrInvalidCredential)

	for _, body := range []string{`{"access_token":"","expires_in":7200}`, `{"access_token":"T"}`, `{"access_token":"T","expires_in":-1}`, `[]`} {
		mt3, app3 := mockApp(t)
		mt3.RegisterResponder(http.MethodGet, "https://api.q.qq.com/api/getToken", httpmock.NewStringResponder(200, body))
		_, err = app3.AccessToken(context.Background())
		assert.ErrorIs(t, err, miniauth.ErrBadResponse, body)
	}
}
