package baiduauth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
	"github.com/wxmp/miniauth/clienttest"
)

// Baidu's client passes the conformance suite of miniauth.Client against
// its fake.
func TestConformance(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		srv, app, _ := newFake(t)
		return clienttest.Env{
			Client: app,
			Code: func(t *testing.T) (string, string) {
				id := srv.AddUser(baiduauthtest.User{})
				return srv.Login(id), id
			},
			Calls:   func() int { return srv.Calls(baiduauthtest.PathCode2Session) },
			Secrets: []string{testSecret},
		}
	})
}

func TestNew(t *testing.T) {
	t.Parallel()
	app, err := baiduauth.New(testAppKey, testSecret)
	require.NoError(t, err)
	assert.Equal(t, testAppKey, app.AppID(), "AppID is the AppKey")
	assert.Equal(t, miniauth.Baidu, app.Platform())
	for _, tt := range []struct {
		appKey, secret, want string
		opts                 []baiduauth.Option
	}{
		{"", testSecret, "appKey must not be empty", nil},
		{"key with space", testSecret, "printable ASCII", nil},
		{strings.Repeat("k", 65), testSecret, "printable ASCII", nil},
		{testAppKey, "", "secret must not be empty", nil},
		{testAppKey, testSecret, "base URL", []baiduauth.Option{baiduauth.WithBaseURL("spapi.baidu.com")}},
		{testAppKey, testSecret, "http client", []baiduauth.Option{baiduauth.WithHTTPClient(nil)}},
		{testAppKey, testSecret, "timeout", []baiduauth.Option{baiduauth.WithTimeout(-1)}},
		{testAppKey, testSecret, "retries", []baiduauth.Option{baiduauth.WithRetry(11)}},
		{testAppKey, testSecret, "backoff", []baiduauth.Option{baiduauth.WithBackoff(0, 0)}},
		{testAppKey, testSecret, "logger", []baiduauth.Option{baiduauth.WithLogger(nil)}},
	} {
		_, err := baiduauth.New(tt.appKey, tt.secret, tt.opts...)
		require.Error(t, err, tt.want)
		assert.Contains(t, err.Error(), tt.want)
		assert.True(t, strings.HasPrefix(err.Error(), "baiduauth: "), err.Error())
	}
}

func TestCode2Session(t *testing.T) {
	t.Parallel()
	srv, app, logs := newFake(t)
	ctx := context.Background()
	id := srv.AddUser(baiduauthtest.User{OpenID: "l214zFqNrEuIEnp6m7Y01sw8yj"})
	code := srv.Login(id)
	sess, err := app.Code2Session(ctx, code)
	require.NoError(t, err)
	key, err := srv.SessionKey(id)
	require.NoError(t, err)
	assert.Equal(t, miniauth.Session{Platform: miniauth.Baidu, AppID: testAppKey, OpenID: id, SessionKey: key}, *sess)
	assert.Len(t, sess.SessionKey, 32, "24 bytes of base64")

	// The key decrypts what the user's phone button sends.
	enc, err := srv.Phone(id)
	require.NoError(t, err)
	var p miniauth.PhoneNumber
	require.NoError(t, app.Decrypt(sess.SessionKey, enc.Data, enc.IV, &p))
	assert.Equal(t, baiduauthtest.DefaultMobile, p.PurePhoneNumber)

	_, err = app.Code2Session(ctx, code)
	require.ErrorIs(t, err, miniauth.ErrInvalidCode, "a code works once")
	var ae *baiduauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_grant", ae.Code)
	assert.Equal(t, "Invalid authorization code: REDACTED", ae.Description, "the echoed code is scrubbed")
	assert.NotContains(t, err.Error(), code)
	assert.NotContains(t, logs.String(), code)
	assert.NotContains(t, logs.String(), testSecret)

	for _, bad := range []string{"", "a b", strings.Repeat("c", baiduauth.MaxCodeLen+1), "\x7f"} {
		_, err := app.Code2Session(ctx, bad)
		require.ErrorIs(t, err, miniauth.ErrInvalidCode)
	}
	assert.Equal(t, 2, srv.Calls(baiduauthtest.PathCode2Session), "malformed codes are never sent")
}

func TestCode2SessionCredentialsAndFaults(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	ctx := context.Background()
	for name, c := range map[string][2]string{"wrong secret": {testAppKey, "wrong-secret-0123456789"}, "wrong appkey": {"otherAppKey0000000000000000000000", testSecret}} {
		wrong, err := baiduauth.New(c[0], c[1], baiduauth.WithBaseURL(srv.URL))
		require.NoError(t, err)
		code := srv.Login("")
		_, err = wrong.Code2Session(ctx, code)
		require.ErrorIs(t, err, miniauth.ErrInvalidCredential, name)
		assert.NotContains(t, err.Error(), c[1])
		_, err = app.Code2Session(ctx, code)
		require.NoError(t, err, "%s: a refused call does not spend the code", name)
	}

	require.NoError(t, srv.FailNextStatus(baiduauthtest.PathCode2Session, 502))
	_, err := app.Code2Session(ctx, srv.Login(""))
	require.NoError(t, err, "a 5xx is retried")
	require.NoError(t, srv.FailNext(baiduauthtest.PathCode2Session, "unauthorized_client"))
	_, err = app.Code2Session(ctx, srv.Login(""))
	require.ErrorIs(t, err, miniauth.ErrNotAllowed)
	require.NoError(t, srv.FailNextStatus(baiduauthtest.PathCode2Session, 400))
	_, err = app.Code2Session(ctx, srv.Login(""))
	require.ErrorIs(t, err, miniauth.ErrBadResponse)
}

// TestWire: the request is the documented form POST, and every documented
// reply shape is read as it should be.
func TestWire(t *testing.T) {
	t.Parallel()
	const code = "0a1b2c3d4e5f0a1b2c3d4e5f0a1b2c3d"
	tests := []struct {
		name, body string
		want       error
		errno      int64
		errCode    string
		status     int // 0: 200
	}{
		{"success", `{"openid":"l214zFqNrEuIEnp6m7Y01sw8yj","session_key":"981ce8b151c0599acf7ad1a673c6ff5e"}`, nil, 0, "", 0},
		{"errno envelope", `{"errno":10010100,"error":"parameter is invalid","error_description":"Key: 'Code2SessionKeyParam.ClientID' Error:Field validation for 'ClientID' failed on the 'required' tag"}`, nil, 10010100, "parameter is invalid", 0},
		{"errno as a string", `{"errno":"10010100","error":"parameter is invalid"}`, nil, 10010100, "parameter is invalid", 0},
		{"oauth envelope", `{"error":"invalid_grant","error_description":"Invalid authorization code: ` + code + `"}`, miniauth.ErrInvalidCode, 0, "invalid_grant", 0},
		{"oauth invalid_client", `{"error":"invalid_client","error_description":"unknown client id"}`, miniauth.ErrInvalidCredential, 0, "invalid_client", 0},
		{"oauth envelope at 400", `{"error":"invalid_grant","error_description":"Invalid authorization code: ` + code + `"}`, miniauth.ErrInvalidCode, 0, "invalid_grant", http.StatusBadRequest},
		{"oauth invalid_client at 401", `{"error":"invalid_client","error_description":"unknown client id"}`, miniauth.ErrInvalidCredential, 0, "invalid_client", http.StatusUnauthorized},
		{"400 without an error body", `{"openid":"o1","session_key":"981ce8b151c0599acf7ad1a673c6ff5e"}`, miniauth.ErrBadResponse, 0, "", http.StatusBadRequest},
		{"400 not JSON", `<html></html>`, miniauth.ErrBadResponse, 0, "", http.StatusBadRequest},
		{"errno 0 is a success", `{"errno":0,"openid":"o1","session_key":"981ce8b151c0599acf7ad1a673c6ff5e"}`, nil, 0, "", 0},
		{"wechat-length key", `{"openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`, miniauth.ErrBadResponse, 0, "", 0},
		{"no openid", `{"session_key":"981ce8b151c0599acf7ad1a673c6ff5e"}`, miniauth.ErrBadResponse, 0, "", 0},
		{"not JSON", `<html></html>`, miniauth.ErrBadResponse, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var form url.Values
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "/oauth/jscode2sessionkey", r.URL.Path)
				assert.Empty(t, r.URL.RawQuery, "the secret travels in the body")
				assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"))
				b, _ := io.ReadAll(r.Body)
				form, _ = url.ParseQuery(string(b))
				w.Header().Set("Content-Type", "application/json")
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			app, err := baiduauth.New(testAppKey, testSecret, baiduauth.WithBaseURL(srv.URL))
			require.NoError(t, err)
			sess, err := app.Code2Session(context.Background(), code)
			assert.Equal(t, url.Values{"code": {code}, "client_id": {testAppKey}, "sk": {testSecret}}, form)
			if tt.want == nil && tt.errCode == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, sess.OpenID)
				return
			}
			require.Error(t, err)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
			if tt.errCode != "" {
				var ae *baiduauth.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.errno, ae.Errno)
				assert.Equal(t, tt.errCode, ae.Code)
			}
			assert.NotContains(t, err.Error(), code)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestAppNeverPrintsTheSecret(t *testing.T) {
	t.Parallel()
	app, err := baiduauth.New(testAppKey, testSecret)
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(app), fmt.Sprintf("%v %+v %#v %s %q %x", app, app, app, *app, *app, *app),
		fmt.Sprintf("%+v", struct{ A baiduauth.App }{*app})} {
		assert.NotContains(t, s, testSecret)
		assert.Contains(t, s, testAppKey)
	}
}

func TestCancelledAndSlow(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code := srv.Login("")
	_, err := app.Code2Session(ctx, code)
	require.ErrorIs(t, err, context.Canceled)
	_, err = app.Code2Session(context.Background(), code)
	require.NoError(t, err)

	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	slow, err := baiduauth.New(testAppKey, testSecret, baiduauth.WithBaseURL(hang.URL), baiduauth.WithTimeout(20*time.Millisecond))
	require.NoError(t, err)
	_, err = slow.Code2Session(context.Background(), "abcdefghijklmnop")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), testSecret)
	assert.NotContains(t, err.Error(), "abcdefghijklmnop")
}
