package hertzauth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/adapters/hertzauth"
	"github.com/wxmp/miniauth/internal/adaptertest"
)

func TestHertz(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, s adaptertest.Service) string {
		h, url := newServer(t)
		h.Use(func(ctx context.Context, c *app.RequestContext) {
			c.Next(adaptertest.Tag(ctx))
		})
		h.POST("/login", hertzauth.Login(s.Client, s.Manager, s.Options...))
		h.POST("/phone", hertzauth.Phone(s.Client, s.Manager, s.Options...))
		me := func(ctx context.Context, c *app.RequestContext) {
			rec, _ := hertzauth.Record(c)
			c.JSON(http.StatusOK, adaptertest.Me(ctx, rec))
		}
		h.GET("/me", hertzauth.Middleware(s.Manager), me)
		h.GET("/registered", hertzauth.RequireSubject(s.Manager), me)
		h.GET("/me/registered", hertzauth.Middleware(s.Manager), hertzauth.RequireSubject(s.Manager), me)
		h.POST("/logout", hertzauth.Logout(s.Manager))
		h.POST("/logout/all", hertzauth.LogoutAll(s.Manager))
		start(t, h)
		return url
	})
}

func TestNilManager(t *testing.T) {
	require.PanicsWithValue(t, "hertzauth: nil *session.Manager", func() { hertzauth.Middleware(nil) })
}

// newServer returns a Hertz server on a listener of 127.0.0.1:0, and its URL.
func newServer(t *testing.T) (*server.Hertz, string) {
	ln, url := adaptertest.Listen(t)
	h := server.New(server.WithListener(ln), server.WithDisablePrintRoute(true),
		server.WithExitWaitTime(time.Second))
	return h, url
}

// start runs h until the test ends.
func start(t *testing.T, h *server.Hertz) {
	adaptertest.Serve(t, h.Run, h.Shutdown)
}
