package wecomauthtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wecomauth/wecomauthtest"
)

const (
	corpID = "ww0123456789abcdef"
	secret = "corp-secret-0123456789"
)

func get(t *testing.T, srv *wecomauthtest.Server, path string, q url.Values) map[string]any {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func TestEnvelopes(t *testing.T) {
	srv := wecomauthtest.NewServer(corpID, secret)
	defer srv.Close()
	for _, tt := range []struct {
		q       url.Values
		errcode float64
	}{
		{url.Values{"corpsecret": {secret}}, 41002},
		{url.Values{"corpid": {"ww1"}, "corpsecret": {secret}}, 40013},
		{url.Values{"corpid": {corpID}}, 41004},
		{url.Values{"corpid": {corpID}, "corpsecret": {"x"}}, 40001},
	} {
		assert.Equal(t, tt.errcode, get(t, srv, wecomauthtest.PathToken, tt.q)["errcode"], tt.q)
	}
	tq := url.Values{"corpid": {corpID}, "corpsecret": {secret}}
	tok := get(t, srv, wecomauthtest.PathToken, tq)
	assert.Equal(t, float64(0), tok["errcode"])
	assert.Equal(t, float64(7200), tok["expires_in"])
	assert.Equal(t, tok["access_token"], get(t, srv, wecomauthtest.PathToken, tq)["access_token"], "the same token while valid")
	assert.Equal(t, 1, srv.TokensIssued())

	code := srv.Login("lisi")
	key, err := srv.SessionKey("lisi")
	require.NoError(t, err)
	c2s := func(tok, code string) url.Values {
		return url.Values{"access_token": {tok}, "js_code": {code}, "grant_type": {"authorization_code"}}
	}
	at := tok["access_token"].(string)
	assert.Equal(t, float64(41001), get(t, srv, wecomauthtest.PathCode2Session, c2s("", code))["errcode"])
	assert.Equal(t, float64(40014), get(t, srv, wecomauthtest.PathCode2Session, c2s("bogus", code))["errcode"])
	assert.Equal(t, float64(41008), get(t, srv, wecomauthtest.PathCode2Session, c2s(at, ""))["errcode"])
	assert.Equal(t, float64(40029), get(t, srv, wecomauthtest.PathCode2Session, c2s(at, "nope"))["errcode"])
	assert.Equal(t, map[string]any{"corpid": corpID, "userid": "lisi", "session_key": key, "errcode": float64(0), "errmsg": "ok"},
		get(t, srv, wecomauthtest.PathCode2Session, c2s(at, code)))
	assert.Equal(t, float64(40029), get(t, srv, wecomauthtest.PathCode2Session, c2s(at, code))["errcode"], "used")

	srv.RevokeToken()
	assert.Equal(t, float64(40014), get(t, srv, wecomauthtest.PathCode2Session, c2s(at, srv.Login("lisi")))["errcode"])
	assert.NotEqual(t, at, get(t, srv, wecomauthtest.PathToken, tq)["access_token"])
	assert.NotContains(t, fmt.Sprintf("%v %#v %+v", srv, srv, srv), secret)
	assert.Error(t, srv.FailNext("/x", 1))
	assert.Error(t, srv.FailNext(wecomauthtest.PathToken, 0))
	_, err = srv.SessionKey("nobody")
	assert.ErrorIs(t, err, wecomauthtest.ErrUnknownUser)
}
