package wxauth_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
)

// countingServer is a loopback jscode2session that counts the TCP
// connections it accepts.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, c2sReply)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// callsFrom makes calls Code2Session calls on app from workers goroutines,
// each pausing a little between its calls as the handlers of a login
// server do: a connection then often goes back to the pool with no call
// waiting for it.
func callsFrom(t *testing.T, app *wxauth.App, workers, calls int) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(calls) {
				if _, err := app.Code2Session(context.Background(), testCode); err != nil {
					errs <- err
					return
				}
				time.Sleep(200 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// TestDefaultTransportReusesConnections makes 1,000 calls from 50
// goroutines with the default client: the connections opened stay about
// one per goroutine (the transport resty builds by default keeps
// GOMAXPROCS+1 idle connections: it opened ~600 here).
func TestDefaultTransportReusesConnections(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts []wxauth.Option
	}{
		{"default", nil},
		// A client without a Transport gets the same pooled default.
		{"client without transport", []wxauth.Option{wxauth.WithHTTPClient(&http.Client{})}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, conns := countingServer(t)
			app, err := wxauth.New(testAppID, testSecret, append([]wxauth.Option{wxauth.WithBaseURL(srv.URL)}, tt.opts...)...)
			require.NoError(t, err)
			const workers, calls = 50, 1000
			callsFrom(t, app, workers, calls)
			t.Logf("%d calls from %d goroutines: %d TCP connections", calls, workers, conns.Load())
			// About one a goroutine (50-52 here; up to ~75 under -race on a
			// loaded machine: net/http dials anew when a call comes in the
			// instant between a reply read and its connection going back
			// to the pool). Resty's transport opened ~600.
			assert.LessOrEqual(t, conns.Load(), int64(2*workers))
		})
	}
}

// TestWithHTTPClientTransportUsedAsIs checks that a caller's transport is
// the one requests go through, its pool included.
func TestWithHTTPClientTransportUsedAsIs(t *testing.T) {
	t.Parallel()
	srv, conns := countingServer(t)
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(srv.URL),
		wxauth.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	callsFrom(t, app, 1, 20)
	assert.Equal(t, int64(1), conns.Load(), "one caller, one kept-alive connection")
}

// wrappedTransport is what tracing libraries and httpmock.Activate put in
// http.DefaultTransport: a RoundTripper that is no *http.Transport.
type wrappedTransport struct{ http.RoundTripper }

// TestNewWithAReplacedDefaultTransport: a program (or a test using
// httpmock.Activate) whose http.DefaultTransport is no *http.Transport still
// gets an App, with a pooled transport of its own. Not parallel: it swaps a
// package variable of net/http, and top-level parallel tests start only
// after it has put it back.
func TestNewWithAReplacedDefaultTransport(t *testing.T) {
	orig := http.DefaultTransport
	http.DefaultTransport = wrappedTransport{orig}
	t.Cleanup(func() { http.DefaultTransport = orig })

	srv, _ := countingServer(t)
	var app *wxauth.App
	require.NotPanics(t, func() {
		var err error
		app, err = wxauth.New("wx1234567890abcdef", "secret", wxauth.WithBaseURL(srv.URL))
		require.NoError(t, err)
	})
	sess, err := app.Code2Session(context.Background(), "code")
	require.NoError(t, err)
	assert.NotEmpty(t, sess.OpenID)
}
