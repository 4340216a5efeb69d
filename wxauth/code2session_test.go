package wxauth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"
	"github.com/wxmp/miniauth"

	"github.com/wxmp/miniauth/wxauth"
)

func TestCode2SessionSuccess(t *testing.T) {
	t.Parallel()
	app, mt, logs := newMocked(t)
	// The query must be exactly these four parameters.
	mt.RegisterResponderWithQuery(http.MethodGet, code2sess, map[string]string{
		"appid": testAppID, "secret": testSecret, "js_code": testCode, "grant_type": "authorization_code",
	}, textResponder(200, `{"openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","session_key":"tiihtNczf5v6AKRyjwEUhQ==","unionid":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}`))

	s, err := app.Code2Session(context.Background(), testCode)
	require.NoError(t, err)
	assert.Equal(t, &wxauth.Session{Platform: miniauth.WeChat, AppID: testAppID, OpenID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE", UnionID: "ocMvos6NjeKLIBqg5Mr9QjxrP1FA", SessionKey: testKey}, s)
	assert.Equal(t, 1, mt.GetTotalCallCount())
	assert.NotContains(t, logs.String(), testSecret)
	assert.NotContains(t, logs.String(), testCode)
}

func TestCode2SessionErrcodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		sentinel error
		code     int
	}{
		{"invalid code", `{"errcode":40029,"errmsg":"invalid code, rid: 6523f1a2-1b2c3d4e-5f607182"}`, wxauth.ErrInvalidCode, 40029},
		{"code used", `{"errcode":40163,"errmsg":"code been used, rid: 6523f1a2"}`, wxauth.ErrCodeUsed, 40163},
		{"rate limited", `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, wxauth.ErrRateLimited, 45011},
		{"high risk", `{"errcode":40226,"errmsg":"code blocked"}`, wxauth.ErrHighRisk, 40226},
		{"invalid appid", `{"errcode":40013,"errmsg":"invalid appid"}`, wxauth.ErrInvalidCredential, 40013},
		{"invalid secret", `{"errcode":40125,"errmsg":"invalid appsecret"}`, wxauth.ErrInvalidCredential, 40125},
		{"invalid credential", `{"errcode":40001,"errmsg":"invalid credential"}`, wxauth.ErrInvalidCredential, 40001},
		{"errcode as string", `{"errcode":"40029","errmsg":"invalid code"}`, wxauth.ErrInvalidCode, 40029},
		{"unknown errcode", `{"errcode":99999,"errmsg":"something new"}`, nil, 99999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app, mt, _ := newMocked(t)
			mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200, tt.body))
			s, err := app.Code2Session(context.Background(), testCode)
			require.Error(t, err)
			assert.Nil(t, s)
			var apiErr *wxauth.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, "code2session", apiErr.Op)
			if tt.sentinel != nil {
				assert.ErrorIs(t, err, tt.sentinel)
			}
			for _, other := range []error{wxauth.ErrInvalidCode, wxauth.ErrCodeUsed, wxauth.ErrRateLimited, wxauth.ErrHighRisk, wxauth.ErrInvalidCredential, wxauth.ErrSystemBusy} {
				if other != tt.sentinel {
					assert.NotErrorIs(t, err, other)
				}
			}
			assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("wxauth: code2session: errcode %d", tt.code)), err.Error())
			assert.Equal(t, 1, mt.GetTotalCallCount(), "errcodes other than -1 are not retried")
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t)
	mt.RegisterResponder(http.MethodGet, code2sess,
		textResponder(200, `{"errcode":40029,"errmsg":"invalid code, rid: 6523f1a2-1b2c3d4e"}`))
	_, err := app.Code2Session(context.Background(), testCode)
	var apiErr *wxauth.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "invalid code", apiErr.Msg)
	assert.Equal(t, "6523f1a2-1b2c3d4e", apiErr.RID)
	assert.Equal(t, "wxauth: code2session: errcode 40029: invalid code (rid: 6523f1a2-1b2c3d4e)", err.Error())
}

func TestAPIErrorScrubsEchoedSecrets(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t)
	long := strings.Repeat("x", 5000)
	mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200,
		`{"errcode":40125,"errmsg":"invalid appsecret `+testSecret+` for code `+testCode+long+`"}`))
	_, err := app.Code2Session(context.Background(), testCode)
	require.ErrorIs(t, err, wxauth.ErrInvalidCredential)
	assert.NotContains(t, err.Error(), testSecret)
	assert.NotContains(t, err.Error(), testCode)
	assert.Less(t, len(err.Error()), 400, "errmsg is capped")
}

func TestCode2SessionRetries(t *testing.T) {
	t.Parallel()
	const ok = `{"openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`
	tests := []struct {
		name     string
		replies  []httpmock.Responder
		retries  int
		wantErr  error
		wantCall int
	}{
		{"busy then success", []httpmock.Responder{textResponder(200, `{"errcode":-1,"errmsg":"system error"}`), textResponder(200, ok)}, 2, nil, 2},
		{"busy errcode as string then success", []httpmock.Responder{textResponder(200, `{"errcode":"-1","errmsg":"system error"}`), textResponder(200, ok)}, 2, nil, 2},
		{"502 then success", []httpmock.Responder{textResponder(502, `<html><body>502 Bad Gateway</body></html>`), textResponder(200, ok)}, 2, nil, 2},
		{"busy persists", []httpmock.Responder{textResponder(200, `{"errcode":-1,"errmsg":"system error"}`)}, 2, wxauth.ErrSystemBusy, 3},
		{"busy, retries off", []httpmock.Responder{textResponder(200, `{"errcode":-1,"errmsg":"system error"}`)}, 0, wxauth.ErrSystemBusy, 1},
		{"html 502 persists", []httpmock.Responder{textResponder(502, `<html><body>502 Bad Gateway</body></html>`)}, 2, wxauth.ErrBadResponse, 3},
		{"4xx is not retried", []httpmock.Responder{textResponder(404, `not found`)}, 2, wxauth.ErrBadResponse, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app, mt, _ := newMocked(t, wxauth.WithRetry(tt.retries))
			seq := tt.replies[0]
			for _, r := range tt.replies[1:] {
				seq = seq.Then(r)
			}
			mt.RegisterResponder(http.MethodGet, code2sess, seq)
			s, err := app.Code2Session(context.Background(), testCode)
			assert.Equal(t, tt.wantCall, mt.GetTotalCallCount())
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "o1", s.OpenID)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestCode2SessionStatusError(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t, wxauth.WithRetry(0))
	mt.RegisterResponder(http.MethodGet, code2sess, textResponder(502, `<html>502 Bad Gateway</html>`))
	_, err := app.Code2Session(context.Background(), testCode)
	var se *wxauth.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 502, se.StatusCode)
	assert.Equal(t, "wxauth: code2session: http status 502", err.Error())
}

func TestCode2SessionBadReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		resp httpmock.Responder
	}{
		{"truncated json", textResponder(200, `{"openid":"o1","session_key":"tiihtNczf5v6`)},
		{"not json", textResponder(200, `<html>hello</html>`)},
		{"empty body", textResponder(200, ``)},
		{"json array", textResponder(200, `[1,2]`)},
		{"no openid", textResponder(200, `{"session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`)},
		{"no session_key", textResponder(200, `{"openid":"o1"}`)},
		{"session_key not 16 bytes", textResponder(200, `{"openid":"o1","session_key":"c2hvcnQ="}`)},
		{"errcode not a number", textResponder(200, `{"errcode":"abc","openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`)},
		{"oversized body", textResponder(200, `{"openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ==","x":"`+strings.Repeat("a", 1<<20)+`"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app, mt, _ := newMocked(t)
			mt.RegisterResponder(http.MethodGet, code2sess, tt.resp)
			s, err := app.Code2Session(context.Background(), testCode)
			require.ErrorIs(t, err, wxauth.ErrBadResponse)
			assert.Nil(t, s)
			assert.True(t, strings.HasPrefix(err.Error(), "wxauth: code2session: "), err.Error())
			assert.NotContains(t, err.Error(), "tiihtNczf5v6")
			assert.Equal(t, 1, mt.GetTotalCallCount(), "a malformed 200 is not retried")
		})
	}
}

func TestCode2SessionRefusesBadCodeWithoutRequest(t *testing.T) {
	t.Parallel()
	for name, code := range map[string]string{
		"empty":     "",
		"too long":  strings.Repeat("a", wxauth.MaxCodeLen+1),
		"space":     "abc def",
		"newline":   "abc\ndef",
		"non-ascii": "登录码",
		"nul":       "abc\x00",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app, mt, _ := newMocked(t)
			_, err := app.Code2Session(context.Background(), code)
			require.ErrorIs(t, err, wxauth.ErrInvalidCode)
			assert.Zero(t, mt.GetTotalCallCount())
		})
	}
	app, mt, _ := newMocked(t)
	mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200, `{"openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`))
	_, err := app.Code2Session(context.Background(), strings.Repeat("a", wxauth.MaxCodeLen))
	require.NoError(t, err, "a code of exactly MaxCodeLen bytes is sent")
}

func TestCode2SessionClosedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	logs := &syncBuffer{}
	app, err := wxauth.New(testAppID, testSecret,
		wxauth.WithBaseURL("http://"+addr),
		wxauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
		wxauth.WithLogger(newDebugLogger(logs)))
	require.NoError(t, err)
	_, err = app.Code2Session(context.Background(), testCode)
	require.Error(t, err)
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr, "the cause stays reachable")
	for _, secret := range []string{testSecret, testCode} {
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, fmt.Sprintf("%+v", err), secret)
		assert.NotContains(t, logs.String(), secret)
	}
	assert.Contains(t, err.Error(), "secret=REDACTED")
	assert.Contains(t, logs.String(), "wxauth: retrying", "a failed dial is retried")
}

func TestCode2SessionContextDeadline(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t)
	mt.RegisterResponder(http.MethodGet, code2sess, func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := app.Code2Session(ctx, testCode)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), testSecret)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "a timeout is not retried: the code may be spent")
}

func TestPerAttemptTimeout(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t, wxauth.WithTimeout(10*time.Millisecond))
	mt.RegisterResponder(http.MethodGet, code2sess, func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	})
	_, err := app.Code2Session(context.Background(), testCode)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestRetryStopsAtContextDeadline(t *testing.T) {
	t.Parallel()
	// Backoff waits far longer than the deadline: no retry is started.
	app, mt, _ := newMocked(t, wxauth.WithBackoff(time.Hour, time.Hour))
	mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200, `{"errcode":-1,"errmsg":"busy"}`))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := app.Code2Session(ctx, testCode)
	require.ErrorIs(t, err, wxauth.ErrSystemBusy)
	assert.Equal(t, 1, mt.GetTotalCallCount())
	assert.NoError(t, ctx.Err(), "returned before the deadline")
}

func TestRetryWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The context ends once the client starts waiting for its retry.
	logger := slog.New(cancelOnMessage{msg: "wxauth: retrying", cancel: cancel})
	app, mt, _ := newMocked(t, wxauth.WithBackoff(time.Hour, time.Hour), wxauth.WithLogger(logger))
	mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200, `{"errcode":-1,"errmsg":"busy"}`))
	_, err := app.Code2Session(ctx, testCode)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, wxauth.ErrSystemBusy, "the last failure is kept")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// cancelOnMessage is a slog.Handler that calls cancel when a record with
// message msg is logged.
type cancelOnMessage struct {
	msg    string
	cancel context.CancelFunc
}

func (h cancelOnMessage) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOnMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return nil
}

func (h cancelOnMessage) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h cancelOnMessage) WithGroup(string) slog.Handler { return h }

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t)
	mt.RegisterResponder(http.MethodGet, code2sess, func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(http.StatusFound, "")
		r.Header.Set("Location", "https://evil.example/steal")
		return r, nil
	})
	mt.RegisterResponder(http.MethodGet, "https://evil.example/steal", textResponder(200, `{"openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`))
	_, err := app.Code2Session(context.Background(), testCode)
	require.Error(t, err)
	assert.Zero(t, mt.GetCallCountInfo()["GET https://evil.example/steal"])
	assert.NotContains(t, err.Error(), testSecret)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		appID  string
		secret string
		opts   []wxauth.Option
		want   string
	}{
		{"empty appid", "", testSecret, nil, "appID"},
		{"empty secret", testAppID, "", nil, "secret"},
		{"relative base URL", testAppID, testSecret, []wxauth.Option{wxauth.WithBaseURL("/api")}, "base URL"},
		{"ftp base URL", testAppID, testSecret, []wxauth.Option{wxauth.WithBaseURL("ftp://x")}, "base URL"},
		{"base URL with query", testAppID, testSecret, []wxauth.Option{wxauth.WithBaseURL("https://x/?a=b")}, "base URL"},
		{"nil http client", testAppID, testSecret, []wxauth.Option{wxauth.WithHTTPClient(nil)}, "http client"},
		{"zero timeout", testAppID, testSecret, []wxauth.Option{wxauth.WithTimeout(0)}, "timeout"},
		{"negative retry", testAppID, testSecret, []wxauth.Option{wxauth.WithRetry(-1)}, "retries"},
		{"bad backoff", testAppID, testSecret, []wxauth.Option{wxauth.WithBackoff(time.Second, time.Millisecond)}, "backoff"},
		{"nil logger", testAppID, testSecret, []wxauth.Option{wxauth.WithLogger(nil)}, "logger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app, err := wxauth.New(tt.appID, tt.secret, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, app)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "wxauth: "))
		})
	}
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL("http://127.0.0.1:8080/"))
	require.NoError(t, err)
	assert.Equal(t, testAppID, app.AppID())
}

func TestWithHTTPClientDoesNotMutateCallersClient(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	hc := &http.Client{Transport: mt, Timeout: 42 * time.Second}
	before := *hc
	_, err := wxauth.New(testAppID, testSecret, wxauth.WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Equal(t, before.Timeout, hc.Timeout)
	assert.Same(t, mt, hc.Transport.(*httpmock.MockTransport))
	assert.Nil(t, hc.CheckRedirect)
}

func TestConcurrentCode2Session(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t)
	mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200, `{"openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`))
	errs := make(chan error, 50)
	for range 50 {
		go func() {
			_, err := app.Code2Session(context.Background(), testCode)
			errs <- err
		}()
	}
	for range 50 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, 50, mt.GetTotalCallCount())
}

func TestErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	all := []error{wxauth.ErrInvalidCode, wxauth.ErrCodeUsed, wxauth.ErrRateLimited, wxauth.ErrHighRisk,
		wxauth.ErrSystemBusy, wxauth.ErrInvalidCredential, wxauth.ErrSessionKeyExpired, wxauth.ErrWatermark, wxauth.ErrBadResponse}
	for i, a := range all {
		// The sentinels every platform shares are package miniauth's.
		assert.True(t, strings.HasPrefix(a.Error(), "wxauth: ") || strings.HasPrefix(a.Error(), "miniauth: "), a.Error())
		for j, b := range all {
			if i != j {
				assert.False(t, errors.Is(a, b), "%v is %v", a, b)
			}
		}
	}
}
