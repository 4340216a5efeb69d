package wxauthtest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// checkReply is checkencryptedmsg's reply, decoded with unknown fields
// disallowed: a field name that is not WeChat's fails the test.
type checkReply struct {
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
	Vaild      *bool  `json:"vaild"`
	CreateTime int64  `json:"create_time"`
}

func checkEncrypted(t *testing.T, srv *wxauthtest.Server, method string, q url.Values, body string) checkReply {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+wxauthtest.PathCheckEncrypted+"?"+q.Encode(), strings.NewReader(body))
	require.NoError(t, err)
	resp, err := testClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	var r checkReply
	require.NoError(t, dec.Decode(&r))
	return r
}

func hashBody(encryptedData string) string {
	sum := sha256.Sum256([]byte(encryptedData))
	b, _ := json.Marshal(map[string]string{"encrypted_msg_hash": hex.EncodeToString(sum[:])})
	return string(b)
}

func TestCheckEncryptedMsg(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	id := srv.AddUser(wxauthtest.User{})
	srv.Login(id)
	profile, err := srv.Profile(id)
	require.NoError(t, err)
	info, err := srv.UserInfo(id)
	require.NoError(t, err)
	made := clk.Now()
	tok := url.Values{"access_token": {srv.AccessToken()}}

	for _, data := range []string{profile.EncryptedData, info.EncryptedData} {
		r := checkEncrypted(t, srv, http.MethodPost, tok, hashBody(data))
		assert.Equal(t, 0, r.ErrCode)
		assert.Equal(t, "ok", r.ErrMsg)
		require.NotNil(t, r.Vaild)
		assert.True(t, *r.Vaild)
		assert.Equal(t, made.Unix(), r.CreateTime)
	}

	tests := []struct {
		name    string
		method  string
		q       url.Values
		body    string
		errcode int
	}{
		{"unknown data", http.MethodPost, tok, hashBody("Zm9yZ2Vk"), 1},
		{"hash of the decoded bytes", http.MethodPost, tok, `{"encrypted_msg_hash":"` + strings.Repeat("ab", 32) + `"}`, 1},
		{"hash not hex", http.MethodPost, tok, `{"encrypted_msg_hash":"not hex"}`, 40097},
		{"hash too short", http.MethodPost, tok, `{"encrypted_msg_hash":"abcd"}`, 40097},
		{"no hash", http.MethodPost, tok, `{}`, 47001},
		{"not JSON", http.MethodPost, tok, `hash`, 47001},
		{"empty body", http.MethodPost, tok, ``, 44002},
		{"no access_token", http.MethodPost, nil, hashBody(profile.EncryptedData), 41001},
		{"wrong access_token", http.MethodPost, url.Values{"access_token": {"x"}}, hashBody(profile.EncryptedData), 40001},
		{"GET", http.MethodGet, tok, "", 43002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := checkEncrypted(t, srv, tt.method, tt.q, tt.body)
			assert.Equal(t, tt.errcode, r.ErrCode, r.ErrMsg)
			assert.Nil(t, r.Vaild)
			if tt.errcode == 1 {
				assert.True(t, strings.HasPrefix(r.ErrMsg, "data not exit"), r.ErrMsg)
			}
		})
	}
}

func TestCheckEncryptedMsgForgetsAfterThreeDays(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	id := srv.AddUser(wxauthtest.User{})
	srv.Login(id)
	old, err := srv.Profile(id)
	require.NoError(t, err)
	clk.Advance(wxauthtest.EncryptedDataTTL)
	// Made now, the second one sweeps the first away; both answers follow
	// the clock either way.
	fresh, err := srv.Profile(id)
	require.NoError(t, err)
	tok := url.Values{"access_token": {srv.AccessToken()}}
	assert.Equal(t, 1, checkEncrypted(t, srv, http.MethodPost, tok, hashBody(old.EncryptedData)).ErrCode)
	assert.Equal(t, 0, checkEncrypted(t, srv, http.MethodPost, tok, hashBody(fresh.EncryptedData)).ErrCode)
	clk.Advance(wxauthtest.EncryptedDataTTL - time.Second)
	tok = url.Values{"access_token": {srv.AccessToken()}}
	assert.Equal(t, 0, checkEncrypted(t, srv, http.MethodPost, tok, hashBody(fresh.EncryptedData)).ErrCode)
}
