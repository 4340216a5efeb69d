package baiduauthtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
)

const appKey, secret = "y2dTfnWfkx2OXttMEMWlGHoB1KzMogm7", "s3cr3t-of-the-app"

func post(t *testing.T, srv *baiduauthtest.Server, contentType string, form url.Values) map[string]any {
	t.Helper()
	resp, err := http.Post(srv.URL+baiduauthtest.PathCode2Session, contentType, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	srv := baiduauthtest.NewServer(appKey, secret)
	defer srv.Close()
	const form = "application/x-www-form-urlencoded"
	code := srv.Login("o1")
	m := post(t, srv, form, url.Values{"code": {code}, "client_id": {appKey}, "sk": {secret}})
	key, err := srv.SessionKey("o1")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"openid": "o1", "session_key": key}, m)

	m = post(t, srv, form, url.Values{"code": {code}, "client_id": {appKey}, "sk": {secret}})
	assert.Equal(t, "invalid_grant", m["error"], "used")
	assert.Contains(t, m["error_description"], code, "the description echoes the code, as Baidu's does")

	m = post(t, srv, form, url.Values{"code": {srv.Login("")}, "sk": {secret}})
	assert.Equal(t, 10010100.0, m["errno"])
	assert.Equal(t, "parameter is invalid", m["error"])
	m = post(t, srv, "application/json", url.Values{"code": {srv.Login("")}, "client_id": {appKey}, "sk": {secret}})
	assert.Equal(t, 10010100.0, m["errno"], "a form is required")
	m = post(t, srv, form, url.Values{"code": {srv.Login("")}, "client_id": {appKey}, "sk": {"nope"}})
	assert.Equal(t, "invalid_client", m["error"])
	assert.Equal(t, 5, srv.Calls(baiduauthtest.PathCode2Session))

	resp, err := http.Get(srv.URL + baiduauthtest.PathCode2Session)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Error(t, srv.FailNext("/other", "invalid_client"))
	require.Error(t, srv.FailNextStatus(baiduauthtest.PathCode2Session, 99))
	_, err = baiduauthtest.Start("", "")
	require.Error(t, err)
	_, err = srv.Phone("nobody")
	require.Error(t, err)
}
