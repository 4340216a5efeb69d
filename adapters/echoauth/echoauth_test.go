package echoauth_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/adapters/echoauth"
	"github.com/wxmp/miniauth/internal/adaptertest"
)

func TestEcho(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, s adaptertest.Service) string {
		e := newEcho()
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.SetRequest(c.Request().WithContext(adaptertest.Tag(c.Request().Context())))
				return next(c)
			}
		})
		e.POST("/login", echoauth.Login(s.Client, s.Manager, s.Options...))
		e.POST("/phone", echoauth.Phone(s.Client, s.Manager, s.Options...))
		me := func(c echo.Context) error {
			rec, _ := echoauth.Record(c)
			return c.JSON(http.StatusOK, adaptertest.Me(c.Request().Context(), rec))
		}
		e.GET("/me", me, echoauth.Middleware(s.Manager))
		e.GET("/registered", me, echoauth.RequireSubject(s.Manager))
		e.GET("/me/registered", me, echoauth.Middleware(s.Manager), echoauth.RequireSubject(s.Manager))
		e.POST("/logout", echoauth.Logout(s.Manager))
		e.POST("/logout/all", echoauth.LogoutAll(s.Manager))
		return serve(t, e)
	})
}

func TestNilManager(t *testing.T) {
	require.PanicsWithValue(t, "echoauth: nil *session.Manager", func() { echoauth.Middleware(nil) })
}

func newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	return e
}

// serve runs e on echo's own server (Echo.Start, on a listener of ours)
// and returns its URL.
func serve(t *testing.T, e *echo.Echo) string {
	ln, url := adaptertest.Listen(t)
	e.Listener = ln
	adaptertest.Serve(t, func() error { return e.Start("") }, e.Shutdown)
	return url
}
