package fiberauth_test

import (
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/adapters/fiberauth"
	"github.com/wxmp/miniauth/internal/adaptertest"
)

func TestFiber(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, s adaptertest.Service) string {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(func(c *fiber.Ctx) error {
			c.SetUserContext(adaptertest.Tag(c.UserContext()))
			return c.Next()
		})
		app.Post("/login", fiberauth.Login(s.Client, s.Manager, s.Options...))
		app.Post("/phone", fiberauth.Phone(s.Client, s.Manager, s.Options...))
		me := func(c *fiber.Ctx) error {
			rec, _ := fiberauth.Record(c)
			return c.JSON(adaptertest.Me(c.UserContext(), rec))
		}
		app.Get("/me", fiberauth.Middleware(s.Manager), me)
		app.Get("/registered", fiberauth.RequireSubject(s.Manager), me)
		app.Get("/me/registered", fiberauth.Middleware(s.Manager), fiberauth.RequireSubject(s.Manager), me)
		app.Post("/logout", fiberauth.Logout(s.Manager))
		app.Post("/logout/all", fiberauth.LogoutAll(s.Manager))
		return serve(t, app)
	})
}

func TestNilManager(t *testing.T) {
	require.PanicsWithValue(t, "fiberauth: nil *session.Manager", func() { fiberauth.Middleware(nil) })
}

// serve runs app on Fiber's own server (App.Listener) and returns its URL.
func serve(t *testing.T, app *fiber.App) string {
	ln, url := adaptertest.Listen(t)
	adaptertest.Serve(t, func() error { return app.Listener(ln) }, app.ShutdownWithContext)
	return url
}
