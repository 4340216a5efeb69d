package qqauth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/qqauth"
	"github.com/wxmp/miniauth/qqauth/qqauthtest"
)

const (
	testAppID  = "1112345678"
	testSecret = "qq-secret-0123456789abcdef"
)

// newPair returns a fake QQ and a client of it that does not wait between
// retries.
func newPair(t *testing.T, opts ...qqauth.Option) (*qqauthtest.Server, *qqauth.App) {
	t.Helper()
	srv := qqauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(srv.Close)
	opts = append([]qqauth.Option{qqauth.WithBaseURL(srv.URL), qqauth.WithBackoff(time.Millisecond, 2*time.Millisecond)}, opts...)
	app, err := qqauth.New(testAppID, testSecret, opts...)
	require.NoError(t, err)
	return srv, app
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name          string
		appID, secret string
		opts          []qqauth.Option
		want          string
	}{
		{"empty appid", "", testSecret, nil, "appID"},
		{"appid with a space", "11 2", testSecret, nil, "appID"},
		{"long appid", strings.Repeat("1", 65), testSecret, nil, "appID"},
		{"appid with a brace", "11{2}", testSecret, nil, "appID"},
		{"empty secret", testAppID, "", nil, "secret"},
		{"secret with a newline", testAppID, "a\nb", nil, "secret"},
		{"relative base URL", testAppID, testSecret, []qqauth.Option{qqauth.WithBaseURL("/x")}, "base URL"},
		{"base URL with a query", testAppID, testSecret, []qqauth.Option{qqauth.WithBaseURL("https://h/?secret=s3cr3t-value")}, "base URL"},
		{"nil http client", testAppID, testSecret, []qqauth.Option{qqauth.WithHTTPClient(nil)}, "http client"},
		{"zero timeout", testAppID, testSecret, []qqauth.Option{qqauth.WithTimeout(0)}, "timeout"},
		{"negative retries", testAppID, testSecret, []qqauth.Option{qqauth.WithRetry(-1)}, "retries"},
		{"backoff limit under base", testAppID, testSecret, []qqauth.Option{qqauth.WithBackoff(time.Second, time.Millisecond)}, "backoff"},
		{"nil logger", testAppID, testSecret, []qqauth.Option{qqauth.WithLogger(nil)}, "logger"},
		{"nil clock", testAppID, testSecret, []qqauth.Option{qqauth.WithClock(nil)}, "clock"},
		{"nil token store", testAppID, testSecret, []qqauth.Option{qqauth.WithTokenStore(nil)}, "token store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := qqauth.New(tt.appID, tt.secret, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, app)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "qqauth: "), err.Error())
			assert.NotContains(t, err.Error(), "s3cr3t-value")
		})
	}
}

func TestCode2Session(t *testing.T) {
	srv, app := newPair(t)
	openID := srv.AddUser(qqauthtest.User{UnionID: "UID_0123456789abcdef"})
	code := srv.Login(openID)
	sess, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err)
	key, err := srv.SessionKey(openID)
	require.NoError(t, err)
	assert.Equal(t, &miniauth.Session{Platform: miniauth.QQ, AppID: testAppID, OpenID: openID, UnionID: "UID_0123456789abcdef", SessionKey: key}, sess)
	assert.Equal(t, miniauth.QQ, app.Platform())
	assert.Equal(t, testAppID, app.AppID())

	// The code works once: QQ documents one refusal, 40029.
	_, err = app.Code2Session(context.Background(), code)
	assert.ErrorIs(t, err, miniauth.ErrInvalidCode)
	var ae *qqauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 40029, ae.Code)
	assert.Equal(t, "code2session", ae.Op)
}

func TestCode2SessionRefusesBadCodesWithoutARequest(t *testing.T) {
	srv, app := newPair(t)
	for _, code := range []string{"", strings.Repeat("a", qqauth.MaxCodeLen+1), "a b", "a\x00b", "码"} {
		_, err := app.Code2Session(context.Background(), code)
		assert.ErrorIs(t, err, miniauth.ErrInvalidCode, "%q", code)
	}
	assert.Zero(t, srv.Calls(qqauthtest.PathCode2Session))
}

func TestCode2SessionErrors(t *testing.T) {
	tests := []struct {
		name    string
		errcode int
		times   int
		want    error
		calls   int
	}{
		{"busy is retried", -1, 1, nil, 2},
		{"busy past the retries", -1, 3, miniauth.ErrSystemBusy, 3},
		{"rate limited", 45011, 1, miniauth.ErrRateLimited, 1},
		{"invalid appid", 40013, 1, miniauth.ErrInvalidCredential, 1},
		{"bad secret", 40001, 1, miniauth.ErrInvalidCredential, 1},
		{"bad secret (WeChat's code)", 40125, 1, miniauth.ErrInvalidCredential, 1},
		{"used (WeChat's code)", 40163, 1, miniauth.ErrCodeUsed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, app := newPair(t)
			code := srv.Login("")
			for range tt.times {
				require.NoError(t, srv.FailNext(qqauthtest.PathCode2Session, tt.errcode))
			}
			sess, err := app.Code2Session(context.Background(), code)
			assert.Equal(t, tt.calls, srv.Calls(qqauthtest.PathCode2Session))
			if tt.want == nil {
				require.NoError(t, err)
				assert.NotEmpty(t, sess.OpenID)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			var ae *qqauth.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.errcode, ae.Code)
		})
	}
}

func TestCode2SessionStatus(t *testing.T) {
	srv, app := newPair(t)
	code := srv.Login("")
	require.NoError(t, srv.FailNextStatus(qqauthtest.PathCode2Session, http.StatusBadGateway))
	_, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err, "a 502 is retried")
	assert.Equal(t, 2, srv.Calls(qqauthtest.PathCode2Session))

	require.NoError(t, srv.FailNextStatus(qqauthtest.PathCode2Session, http.StatusNotFound))
	_, err = app.Code2Session(context.Background(), srv.Login(""))
	var se *qqauth.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusNotFound, se.StatusCode)
	assert.ErrorIs(t, err, miniauth.ErrBadResponse)
}

func TestRateLimit(t *testing.T) {
	srv := qqauthtest.NewServer(testAppID, testSecret, qqauthtest.WithRateLimit(2))
	defer srv.Close()
	app, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	id := srv.AddUser(qqauthtest.User{})
	for range 2 {
		_, err := app.Code2Session(context.Background(), srv.Login(id))
		require.NoError(t, err)
	}
	_, err = app.Code2Session(context.Background(), srv.Login(id))
	assert.ErrorIs(t, err, miniauth.ErrRateLimited)
}

func TestExpiredCode(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := qqauthtest.NewServer(testAppID, testSecret, qqauthtest.WithClock(clock))
	defer srv.Close()
	app, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	code := srv.Login("")
	mu.Lock()
	now = now.Add(qqauthtest.CodeTTL)
	mu.Unlock()
	_, err = app.Code2Session(context.Background(), code)
	assert.ErrorIs(t, err, miniauth.ErrInvalidCode)
}

func TestWrongSecretAtTheFake(t *testing.T) {
	srv := qqauthtest.NewServer(testAppID, testSecret)
	defer srv.Close()
	app, err := qqauth.New(testAppID, "another-secret-value", qqauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = app.Code2Session(context.Background(), srv.Login(""))
	assert.ErrorIs(t, err, miniauth.ErrInvalidCredential)
	assert.NotContains(t, err.Error(), "another-secret-value")
}

func TestSecretsStayOut(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, app := newPair(t, qqauth.WithLogger(logger))
	code := srv.Login("")
	srv.Close() // every request now fails to connect: the URL reaches the error
	_, err := app.Code2Session(context.Background(), code)
	require.Error(t, err)
	_, terr := app.AccessToken(context.Background())
	require.Error(t, terr)
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v %#v", err, err), terr.Error(), logs.String(),
		fmt.Sprint(app), fmt.Sprintf("%#v %+v %s %q", app, app, *app, app)} {
		assert.NotContains(t, text, testSecret)
		assert.NotContains(t, text, code)
	}
	assert.Contains(t, logs.String(), "retrying", "dial errors are retried")

	// A secret echoed in an errmsg is removed.
	srv2, app2 := newPair(t)
	require.NoError(t, srv2.FailNext(qqauthtest.PathCode2Session, 40125, "bad secret "+testSecret))
	_, err = app2.Code2Session(context.Background(), srv2.Login(""))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSecret)
	assert.Contains(t, err.Error(), "REDACTED")
}

func TestCancelledContext(t *testing.T) {
	srv, app := newPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := app.Code2Session(ctx, srv.Login(""))
	assert.ErrorIs(t, err, context.Canceled)

	slow := qqauthtest.NewServer(testAppID, testSecret, qqauthtest.WithLatency(time.Second))
	defer slow.Close()
	sapp, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(slow.URL))
	require.NoError(t, err)
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = sapp.Code2Session(ctx, slow.Login(""))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, slow.Calls(qqauthtest.PathCode2Session), "a timeout is not retried")
}

func TestManyGoroutines(t *testing.T) {
	srv, app := newPair(t)
	const n = 64
	codes := make([]string, n)
	ids := make([]string, n)
	for i := range n {
		ids[i] = srv.AddUser(qqauthtest.User{})
		codes[i] = srv.Login(ids[i])
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]string, n)
	for i := range n {
		wg.Go(func() {
			s, err := app.Code2Session(context.Background(), codes[i])
			errs[i] = err
			if err == nil {
				got[i] = s.OpenID
			}
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, ids[i], got[i])
	}
}

func TestDecryptAndSignature(t *testing.T) {
	srv, app := newPair(t)
	id := srv.AddUser(qqauthtest.User{NickName: "小企鹅", UnionID: "UID_abcdef0123456789"})
	sess, err := app.Code2Session(context.Background(), srv.Login(id))
	require.NoError(t, err)
	p, err := srv.Profile(id)
	require.NoError(t, err)
	require.NoError(t, app.VerifySignature(sess.SessionKey, p.RawData, p.Signature))
	assert.ErrorIs(t, app.VerifySignature(sess.SessionKey, p.RawData+" ", p.Signature), crypto.ErrSignature)

	var u qqauth.UserInfo
	require.NoError(t, app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &u))
	assert.Equal(t, "小企鹅", u.NickName)
	assert.Equal(t, id, u.OpenID)
	assert.Equal(t, testAppID, u.Watermark.AppID)

	var m map[string]any
	require.NoError(t, app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &m))
	assert.Equal(t, id, m["openId"])

	// Data of another app: refused, v untouched.
	other := qqauthtest.NewServer("1119999999", testSecret)
	defer other.Close()
	oid := other.AddUser(qqauthtest.User{})
	other.Login(oid)
	okey, _ := other.SessionKey(oid)
	op, err := other.Profile(oid)
	require.NoError(t, err)
	var u2 qqauth.UserInfo
	assert.ErrorIs(t, app.Decrypt(okey, op.EncryptedData, op.IV, &u2), miniauth.ErrWatermark)
	assert.Zero(t, u2)

	assert.ErrorIs(t, app.Decrypt(sess.SessionKey, "AAAA"+p.EncryptedData[4:], p.IV, &u2), crypto.ErrDecrypt)
	assert.Error(t, app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, u2))
}

func TestApps(t *testing.T) {
	_, app := newPair(t)
	for _, id := range []string{"", testAppID} {
		c, err := app.App(context.Background(), id)
		require.NoError(t, err)
		assert.Same(t, app, c)
	}
	_, err := app.App(context.Background(), "other")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
	set, err := miniauth.NewApps(app)
	require.NoError(t, err)
	c, err := miniauth.ResolveApp(context.Background(), set, miniauth.QQ, testAppID)
	require.NoError(t, err)
	assert.Same(t, app, c)
}

func TestAPIErrorText(t *testing.T) {
	err := error(&qqauth.APIError{Op: "code2session", Code: 40029, Msg: "invalid code"})
	assert.Equal(t, "qqauth: code2session: errcode 40029: invalid code", err.Error())
	assert.ErrorIs(t, err, miniauth.ErrInvalidCode)
	assert.False(t, errors.Is(err, miniauth.ErrCodeUsed))
	assert.False(t, errors.Is(&qqauth.APIError{Code: 12345}, miniauth.ErrInvalidCode))
}
