package wxauthtest_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

func TestPhoneCodeRefusalsLeaveTheCodeUnspent(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	alice := srv.AddUser(wxauthtest.User{OpenID: "o-alice"})
	bob := srv.AddUser(wxauthtest.User{OpenID: "o-bob"})
	tok := url.Values{"access_token": {srv.AccessToken()}}

	code, err := srv.PhoneCode(alice)
	require.NoError(t, err)
	// Sent with another user's openid: refused, as WeChat does, and not spent.
	r := post(t, srv, wxauthtest.PathPhoneNumber, tok, map[string]string{"code": code, "openid": bob})
	assert.Equal(t, 40003, r.ErrCode)
	assert.Contains(t, r.ErrMsg, "invalid openid")
	assert.Nil(t, r.PhoneInfo)
	r = post(t, srv, wxauthtest.PathPhoneNumber, tok, map[string]string{"code": code, "openid": alice})
	assert.Equal(t, 0, r.ErrCode, r.ErrMsg)
	require.NotNil(t, r.PhoneInfo)

	// A code another mini-program's button made: 40013, with or without openid.
	foreign, err := srv.ForeignPhoneCode(alice)
	require.NoError(t, err)
	for _, body := range []map[string]string{{"code": foreign}, {"code": foreign, "openid": alice}} {
		r = post(t, srv, wxauthtest.PathPhoneNumber, tok, body)
		assert.Equal(t, 40013, r.ErrCode)
		assert.Contains(t, r.ErrMsg, "invalid appid")
		assert.Nil(t, r.PhoneInfo)
	}
	_, err = srv.ForeignPhoneCode("o-nobody")
	require.ErrorIs(t, err, wxauthtest.ErrUnknownUser)
}

func TestPhoneNumberRateLimit(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t, wxauthtest.WithRateLimit(2))
	id := srv.AddUser(wxauthtest.User{})
	tok := url.Values{"access_token": {srv.AccessToken()}}
	exchange := func() (string, reply) {
		c, err := srv.PhoneCode(id)
		require.NoError(t, err)
		return c, post(t, srv, wxauthtest.PathPhoneNumber, tok, map[string]string{"code": c})
	}
	for range 2 {
		_, r := exchange()
		require.Equal(t, 0, r.ErrCode, r.ErrMsg)
	}
	limited, r := exchange()
	assert.Equal(t, 45011, r.ErrCode)
	assert.Nil(t, r.PhoneInfo)

	// A minute later the same code (not spent by the refusal) works.
	clk.Advance(61e9)
	r = post(t, srv, wxauthtest.PathPhoneNumber, tok, map[string]string{"code": limited})
	assert.Equal(t, 0, r.ErrCode, r.ErrMsg)

	// wxauth sees the refusals as the errors callers branch on.
	app := newApp(t, srv, wxauth.WithRetry(0))
	foreign, err := srv.ForeignPhoneCode(id)
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(context.Background(), foreign, wxauth.ForOpenID(id))
	require.ErrorIs(t, err, wxauth.ErrInvalidPhoneCode)
	assert.NotErrorIs(t, err, wxauth.ErrInvalidCredential, "40013 on a phone code is no bad appid")
}

func TestHandle(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	srv.Handle("POST /wxa/msg_sec_check", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	// The server's own endpoints come first.
	srv.Handle("/sns/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))

	resp, err := testClient().Post(srv.URL+"/wxa/msg_sec_check", "application/json", nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"errcode":0,"errmsg":"ok"}`, string(b))

	for path, want := range map[string]int{
		"/wxa/msg_sec_check?x=1":    http.StatusMethodNotAllowed, // GET: the pattern is POST only
		"/wxa/unknown":              http.StatusNotFound,
		wxauthtest.PathCode2Session: http.StatusOK, // the fake's errcode reply
		"/sns/other":                http.StatusTeapot,
	} {
		resp, err := testClient().Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, path)
	}
}
