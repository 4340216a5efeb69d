package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// checkerFunc adapts a function to session.SessionKeyChecker.
type checkerFunc func(ctx context.Context, openID, sessionKey string) error

func (f checkerFunc) CheckSessionKey(ctx context.Context, openID, sessionKey string) error {
	return f(ctx, openID, sessionKey)
}

func serveWithToken(h http.Handler, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/api/decrypt", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, r)
	return rr
}

// TestRequireSessionKeyAgainstFakeWeChat logs a user in through the fake
// WeChat, then rotates the user's session_key with a second wx.login: the
// endpoint behind RequireSessionKey lets the first request through and tells
// the client to log in again after the rotation.
func TestRequireSessionKeyAgainstFakeWeChat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := wxauthtest.NewServer("wx00000000000000s1", "session-key-test-secret-01234567")
	t.Cleanup(srv.Close)
	app, err := wxauth.New("wx00000000000000s1", "session-key-test-secret-01234567", wxauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	m := newManager(t, nil)

	sess, err := app.Code2Session(ctx, srv.Login(""))
	require.NoError(t, err)
	token, err := m.Issue(ctx, sess)
	require.NoError(t, err)
	h := m.Middleware(m.RequireSessionKey(app, echoOpenID))

	rr := serveWithToken(h, token)
	require.Equal(t, http.StatusOK, rr.Code, rr.Body.String())
	assert.Equal(t, sess.OpenID, rr.Body.String())

	srv.Login(sess.OpenID) // the user logs in again elsewhere: the stored key is stale
	rr = serveWithToken(h, token)
	require.Equal(t, http.StatusUnauthorized, rr.Code)
	code, _ := errorJSON(t, rr)
	assert.Equal(t, session.CodeSessionKeyExpired, code)
	assert.NotContains(t, rr.Body.String(), sess.SessionKey)
	assert.Equal(t, 2, srv.Calls(wxauthtest.PathCheckSession))
}

func TestRequireSessionKeyFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log, logs := debugLogger()
	m := newManager(t, nil, session.WithLogger(log))
	token, err := m.Issue(ctx, testSession())
	require.NoError(t, err)
	failWith := func(err error) session.SessionKeyChecker {
		return checkerFunc(func(_ context.Context, openID, key string) error {
			if openID != testSession().OpenID || key != testKey {
				return errors.New("checker got the wrong record")
			}
			return err
		})
	}
	tests := []struct {
		name       string
		checker    session.SessionKeyChecker
		wantStatus int
		wantCode   string
	}{
		{"valid", failWith(nil), 200, ""},
		{"expired key", failWith(fmt.Errorf("wxauth: checksession: %w", wxauth.ErrSessionKeyExpired)), 401, session.CodeSessionKeyExpired},
		{"wechat busy", failWith(wxauth.ErrSystemBusy), 502, session.CodeWeChatUnavailable},
		{"bad credentials", failWith(wxauth.ErrInvalidCredential), 500, session.CodeServerError},
		{"nil checker", nil, 500, session.CodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := serveWithToken(m.Middleware(m.RequireSessionKey(tt.checker, echoOpenID)), token)
			require.Equal(t, tt.wantStatus, rr.Code, rr.Body.String())
			if tt.wantCode == "" {
				assert.Equal(t, testSession().OpenID, rr.Body.String())
				return
			}
			code, _ := errorJSON(t, rr)
			assert.Equal(t, tt.wantCode, code)
			assert.NotContains(t, logs.String(), token)
			assert.NotContains(t, logs.String(), testKey)
		})
	}

	// Not behind the middleware: a misconfiguration, not a pass.
	called := false
	h := m.RequireSessionKey(checkerFunc(func(context.Context, string, string) error { called = true; return nil }), echoOpenID)
	rr := serveWithToken(h, token)
	require.Equal(t, http.StatusInternalServerError, rr.Code)
	assert.False(t, called)
}
