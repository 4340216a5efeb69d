package alipayauth_test

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
	"github.com/wxmp/miniauth/internal/testutil"
)

const testAppID = "2021004100000001"

// newFake starts a fake gateway and an App pointed at it, with the fake's
// keys, fast backoff and a debug log captured in the returned buffer.
func newFake(t *testing.T, opts ...alipayauth.Option) (*alipayauthtest.Server, *alipayauth.App, *testutil.SyncBuffer) {
	t.Helper()
	srv := alipayauthtest.NewServer(testAppID)
	t.Cleanup(srv.Close)
	logs := &testutil.SyncBuffer{}
	base := []alipayauth.Option{
		alipayauth.WithBaseURL(srv.URL),
		alipayauth.WithAESKey(srv.AESKey()),
		alipayauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
		alipayauth.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	app, err := alipayauth.New(testAppID, srv.AppPrivateKey(), srv.AlipayPublicKey(), append(base, opts...)...)
	require.NoError(t, err)
	return srv, app, logs
}

// handlerApp returns an App whose requests go to h, with the keys of srv.
func handlerApp(t *testing.T, srv *alipayauthtest.Server, h http.Handler, opts ...alipayauth.Option) *alipayauth.App {
	t.Helper()
	rt := roundTripper{h}
	base := []alipayauth.Option{
		alipayauth.WithHTTPClient(&http.Client{Transport: rt}),
		alipayauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
	}
	app, err := alipayauth.New(testAppID, srv.AppPrivateKey(), srv.AlipayPublicKey(), append(base, opts...)...)
	require.NoError(t, err)
	return app
}

// roundTripper serves requests with a handler, in process.
type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// needTool returns the path of an independent tool for a differential test:
// a skip with the install hint locally, a failure under CI=true.
func needTool(t *testing.T, name, debianPkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: install the Debian package " + debianPkg + " to run this differential test"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// digits12 returns 12 random digits, the tail of a user_id.
func digits12() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:])
}
