package kuaishouauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/kuaishouauth"
)

func mockApp(t testing.TB) (*httpmock.MockTransport, *kuaishouauth.App) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	app, err := kuaishouauth.New(testAppID, testSecret, kuaishouauth.WithHTTPClient(&http.Client{Transport: mt}), kuaishouauth.WithRetry(0))
	require.NoError(t, err)
	return mt, app
}

// captured is a request the mock received: its method, content type and
// form body.
type captured struct {
	method, contentType string
	form                url.Values
}

func capture(got *captured, body string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.contentType = r.Method, r.Header.Get("Content-Type")
		got.form, _ = url.ParseQuery(string(b))
		return httpmock.NewStringResponse(200, body), nil
	}
}

// TestCode2SessionWire checks POST https://open.kuaishou.com/oauth2/mp/code2session
// with the form app_id, app_secret, js_code (the shape Kuaishou's SDKs send;
// its page https://mp.kuaishou.com/docs/develop/server/code2Session.html
// could not be read).
func TestCode2SessionWire(t *testing.T) {
	mt, app := mockApp(t)
	var got captured
	mt.RegisterResponder(http.MethodPost, "https://open.kuaishou.com/oauth2/mp/code2session",
		capture(&got, `{"result":1,"session_key":"tiihtNczf5v6AKRyjwEUhQ==","open_id":"f19a0c3e5b7d9f1a2c4e6a8b0d2f4a6c"}`))
	sess, err := app.Code2Session(context.Background(), "CODE_0123456789")
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, "application/x-www-form-urlencoded", got.contentType)
	assert.Equal(t, url.Values{"app_id": {testAppID}, "app_secret": {testSecret}, "js_code": {"CODE_0123456789"}}, got.form)
	assert.Equal(t, "f19a0c3e5b7d9f1a2c4e6a8b0d2f4a6c", sess.OpenID)
	assert.Equal(t, "tiihtNczf5v6AKRyjwEUhQ==", sess.SessionKey)
	assert.Empty(t, sess.UnionID)
}

func TestCode2SessionReplies(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
		code int
	}{
		{"invalid grant", `{"result":100200105,"error_msg":"invalid grant"}`, miniauth.ErrInvalidCode, 100200105},
		{"bad client", `{"result":100200101,"error_msg":"验证出错"}`, miniauth.ErrInvalidCredential, 100200101},
		{"no result", `{"open_id":"x","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`, nil, 0},
		{"union_id", `{"result":1,"open_id":"x","session_key":"tiihtNczf5v6AKRyjwEUhQ==","union_id":"u\t"}`, miniauth.ErrBadResponse, -1},
		{"no open_id", `{"result":1,"session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`, miniauth.ErrBadResponse, -1},
		{"bad session_key", `{"result":1,"open_id":"x","session_key":"short"}`, miniauth.ErrBadResponse, -1},
		{"not JSON", `Service Unavailable`, miniauth.ErrBadResponse, -1},
		{"over 1 MiB", `{"result":1,"x":"` + strings.Repeat("a", 1<<20) + `"}`, miniauth.ErrBadResponse, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, app := mockApp(t)
			mt.RegisterResponder(http.MethodPost, "https://open.kuaishou.com/oauth2/mp/code2session", httpmock.NewStringResponder(200, tt.body))
			_, err := app.Code2Session(context.Background(), "CODE_0123456789")
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			var ae *kuaishouauth.APIError
			if tt.code >= 0 {
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.code, ae.Code)
			} else {
				assert.False(t, errors.As(err, &ae))
			}
		})
	}
	mt, app := mockApp(t)
	mt.RegisterResponder(http.MethodPost, "https://open.kuaishou.com/oauth2/mp/code2session",
		httpmock.NewStringResponder(200, `{"result":1,"open_id":"x","session_key":"tiihtNczf5v6AKRyjwEUhQ==","union_id":"UNION_1"}`))
	sess, err := app.Code2Session(context.Background(), "CODE_0123456789")
	require.NoError(t, err)
	assert.Equal(t, "UNION_1", sess.UnionID)
}

// TestAccessTokenWire checks POST https://open.kuaishou.com/oauth2/access_token,
// x-www-form-urlencoded app_id, app_secret, grant_type=client_credentials,
// answered {"result":1,"access_token","expires_in","token_type":"bearer"},
// errors 100200100 and 100200101
// (https://mp.kuaishou.com/docs/develop/server/getAccessToken.html).
func TestAccessTokenWire(t *testing.T) {
	mt, app := mockApp(t)
	var got captured
	mt.RegisterResponder(http.MethodPost, "https://open.kuaishou.com/oauth2/access_token",
		capture(&got, `{"result":1,"access_token":"ChFvYXV0aC5hY2Nlc3NUb2tlbhJQ","expires_in":172800,"token_type":"bearer"}`))
	tok, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ChFvYXV0aC5hY2Nlc3NUb2tlbhJQ", tok)
	assert.Equal(t, "application/x-www-form-urlencoded", got.contentType)
	assert.Equal(t, url.Values{"app_id": {testAppID}, "app_secret": {testSecret}, "grant_type": {"client_credentials"}}, got.form)

	// An expires_in past the 48 hours the page states (its field table's
	// example is 3600000) is taken as 48 hours, not refused.
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		expiresIn string
		want      time.Duration
	}{{"172800", 48 * time.Hour}, {"3600000", 48 * time.Hour}, {"7200", 2 * time.Hour}} {
		mt := httpmock.NewMockTransport()
		store := miniauth.NewMemoryTokenStore(miniauth.MemoryTokenStoreClock(func() time.Time { return now }))
		app, err := kuaishouauth.New(testAppID, testSecret, kuaishouauth.WithHTTPClient(&http.Client{Transport: mt}),
			kuaishouauth.WithClock(func() time.Time { return now }), kuaishouauth.WithTokenStore(store))
		require.NoError(t, err)
		mt.RegisterResponder(http.MethodPost, "https://open.kuaishou.com/oauth2/access_token",
			httpmock.NewStringResponder(200, `{"result":1,"access_token":"ChFvYXV0aC5hY2Nlc3NUb2tlbhJQ","expires_in":`+tt.expiresIn+`,"token_type":"bearer"}`))
		_, err = app.AccessToken(context.Background())
		require.NoError(t, err, tt.expiresIn)
		tok, err := store.Load(context.Background(), "kuaishou:"+testAppID)
		require.NoError(t, err)
		assert.Equal(t, tt.want, tok.ExpiresAt.Sub(tok.IssuedAt), "expires_in %s", tt.expiresIn)
	}

	for body, want := range map[string]error{
		`{"result":100200100,"error_msg":"参数有误"}`:       nil,
		`{"result":100200101,"error_msg":"验证出错"}`:       miniauth.ErrInvalidCredential,
		`{"result":1,"access_token":"","expires_in":1}`: miniauth.ErrBadResponse,
		`{"result":1,"access_token":"T"}`:               miniauth.ErrBadResponse,
	} {
		mt, app := mockApp(t)
		mt.RegisterResponder(http.MethodPost, "https://open.kuaishou.com/oauth2/access_token", httpmock.NewStringResponder(200, body))
		_, err := app.AccessToken(context.Background())
		require.Error(t, err, body)
		if want != nil {
			assert.ErrorIs(t, err, want, body)
		}
	}
}

// FuzzCode2SessionReply feeds code2session any reply body: the client never
// panics, and a session it returns has what a session must have.
func FuzzCode2SessionReply(f *testing.F) {
	for _, s := range []string{
		`{"result":1,"session_key":"tiihtNczf5v6AKRyjwEUhQ==","open_id":"f19a"}`,
		`{"result":100200105,"error_msg":"invalid grant"}`,
		`{"result":"1"}`, `{"result":1.0,"open_id":"a"}`, `null`, ``, `{`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		mt, app := mockApp(t)
		mt.RegisterResponder(http.MethodPost, "https://open.kuaishou.com/oauth2/mp/code2session", httpmock.NewStringResponder(200, body))
		sess, err := app.Code2Session(context.Background(), "CODE_0123456789")
		if err != nil {
			var ae *kuaishouauth.APIError
			if !errors.As(err, &ae) && !errors.Is(err, miniauth.ErrBadResponse) {
				t.Fatalf("error %v is neither an APIError nor ErrBadResponse", err)
			}
			return
		}
		if sess.OpenID == "" || sess.Platform != miniauth.Kuaishou || crypto.CheckSessionKey(sess.SessionKey) != nil {
			t.Fatalf("unusable session %v", sess)
		}
	})
}
