package baiduauth_test

import (
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
	"github.com/wxmp/miniauth/internal/testutil"
)

const (
	testAppKey = "y2dTfnWfkx2OXttMEMWlGHoB1KzMogm7" // the AppKey of Baidu's own sample
	testSecret = "Sk0123456789abcdefSk0123456789ab"
)

// newFake starts a fake and an App pointed at it, with fast backoff and a
// debug log captured in the returned buffer.
func newFake(t *testing.T, opts ...baiduauth.Option) (*baiduauthtest.Server, *baiduauth.App, *testutil.SyncBuffer) {
	t.Helper()
	srv := baiduauthtest.NewServer(testAppKey, testSecret)
	t.Cleanup(srv.Close)
	logs := &testutil.SyncBuffer{}
	base := []baiduauth.Option{
		baiduauth.WithBaseURL(srv.URL),
		baiduauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
		baiduauth.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	app, err := baiduauth.New(testAppKey, testSecret, append(base, opts...)...)
	require.NoError(t, err)
	return srv, app, logs
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
