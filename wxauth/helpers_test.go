package wxauth_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/wxauth"
)

const (
	testAppID  = "wx4f4bc4dec97d474b"
	testSecret = "0123456789abcdef0123456789abcdef" // 32 hex chars, like a real app secret
	testCode   = "0a3Xk2Ga1mBq9L0YgFHa1Xk2Ga1mBq9L"
	testKey    = "tiihtNczf5v6AKRyjwEUhQ=="
	code2sess  = "https://api.weixin.qq.com/sns/jscode2session"
)

// newMocked returns an App whose requests go to a fresh httpmock transport
// (per test, so tests may run in parallel), fast backoff, and a debug log
// captured in the returned buffer.
func newMocked(t *testing.T, opts ...wxauth.Option) (*wxauth.App, *httpmock.MockTransport, *syncBuffer) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	logs := &syncBuffer{}
	base := []wxauth.Option{
		wxauth.WithHTTPClient(&http.Client{Transport: mt}),
		wxauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
		wxauth.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	app, err := wxauth.New(testAppID, testSecret, append(base, opts...)...)
	require.NoError(t, err)
	return app, mt, logs
}

// textResponder replies like WeChat: HTTP 200 with JSON served as text/plain.
func textResponder(status int, body string) httpmock.Responder {
	return httpmock.NewStringResponder(status, body).HeaderSet(http.Header{"Content-Type": {"text/plain"}})
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer = testutil.SyncBuffer

func newDebugLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
