package zeroauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zeromicro/go-zero/core/conf"
	"github.com/zeromicro/go-zero/core/proc"
	"github.com/zeromicro/go-zero/rest"

	"github.com/wxmp/miniauth/adapters/zeroauth"
	"github.com/wxmp/miniauth/internal/adaptertest"
	"github.com/wxmp/miniauth/session"
)

func TestGoZero(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, s adaptertest.Service) string {
		srv, url := newServer(t)
		srv.Use(func(next http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				next(w, r.WithContext(adaptertest.Tag(r.Context())))
			}
		})
		srv.AddRoutes([]rest.Route{
			{Method: http.MethodPost, Path: "/login", Handler: zeroauth.Login(s.Client, s.Manager, s.Options...)},
			{Method: http.MethodPost, Path: "/phone", Handler: zeroauth.Phone(s.Client, s.Manager, s.Options...)},
			{Method: http.MethodPost, Path: "/logout", Handler: zeroauth.Logout(s.Manager)},
			{Method: http.MethodPost, Path: "/logout/all", Handler: zeroauth.LogoutAll(s.Manager)},
		})
		me := func(w http.ResponseWriter, r *http.Request) {
			rec, _ := session.FromContext(r.Context())
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(adaptertest.Me(r.Context(), rec))
		}
		srv.AddRoutes(rest.WithMiddlewares([]rest.Middleware{zeroauth.Middleware(s.Manager)},
			rest.Route{Method: http.MethodGet, Path: "/me", Handler: me},
		))
		srv.AddRoutes(rest.WithMiddlewares([]rest.Middleware{zeroauth.RequireSubject(s.Manager)},
			rest.Route{Method: http.MethodGet, Path: "/registered", Handler: me},
		))
		srv.AddRoutes(rest.WithMiddlewares([]rest.Middleware{zeroauth.Middleware(s.Manager), zeroauth.RequireSubject(s.Manager)},
			rest.Route{Method: http.MethodGet, Path: "/me/registered", Handler: me},
		))
		start(t, srv, url)
		return url
	})
}

func TestNilManager(t *testing.T) {
	require.PanicsWithValue(t, "zeroauth: nil *session.Manager", func() { zeroauth.Middleware(nil) })
}

// newServer returns a go-zero rest server configured as a go-zero service
// is (from YAML, defaults filled), on a free port of 127.0.0.1, and its URL.
// go-zero listens on a host and port of its config, not on a listener: the
// port is one the kernel just handed out.
func newServer(t *testing.T) (*rest.Server, string) {
	ln, _ := adaptertest.Listen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	yaml := fmt.Sprintf("Name: zeroauth-test\nHost: 127.0.0.1\nPort: %d\nMode: test\nLog:\n  Level: severe\n  Stat: false\n", port)
	var c rest.RestConf
	require.NoError(t, conf.LoadFromYamlBytes([]byte(yaml), &c))
	srv, err := rest.NewServer(c)
	require.NoError(t, err)
	return srv, fmt.Sprintf("http://127.0.0.1:%d", port)
}

// start runs srv until the test ends. rest.Server.Stop only closes the
// logs: the test stops the server as a SIGTERM does, through go-zero's
// shutdown listeners (proc.Shutdown, there for tests; the tests of this
// package run one server at a time).
func start(t *testing.T, srv *rest.Server, url string) {
	adaptertest.Serve(t, func() error { srv.Start(); return nil }, func(context.Context) error {
		proc.Shutdown()
		return nil
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err == nil {
			require.NoError(t, c.Close())
			return
		}
		require.True(t, time.Now().Before(deadline), "go-zero did not listen: %v", err)
		time.Sleep(10 * time.Millisecond)
	}
}
