package wxauth

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/internal/wxmock"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "s3cr3t-0123456789abcdef0123456789"
	// testKey is a valid session_key (base64 of 16 bytes).
	testKey = "tiihtNczf5v6AKRyjwEUhQ=="
)

// fakeClock is a clock tests move by hand.
type fakeClock = wxmock.Clock

func newFakeClock() *fakeClock { return wxmock.NewClock() }

// withClock makes the App read time from c.
func withClock(c *fakeClock) Option { return WithClock(c.Now) }

// syncBuffer collects log output written from several goroutines.
type syncBuffer = testutil.SyncBuffer

// testApp returns an App on a fresh fake WeChat, with a hand-moved clock,
// fast backoff and a debug logger writing to the returned buffer.
func testApp(t *testing.T, opts ...Option) (*App, *wxmock.Upstream, *fakeClock, *syncBuffer) {
	t.Helper()
	up := wxmock.New()
	clk := newFakeClock()
	logs := &syncBuffer{}
	base := []Option{
		WithHTTPClient(up.Client()),
		withClock(clk),
		WithBackoff(time.Millisecond, 2*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	a, err := New(testAppID, testSecret, append(base, opts...)...)
	require.NoError(t, err)
	return a, up, clk, logs
}

// waitRefresh waits for the refresh in flight, if any.
func waitRefresh(a *App) {
	a.tokens.WaitRefresh()
}
