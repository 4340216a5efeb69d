package ginauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/adapters/ginauth"
	"github.com/wxmp/miniauth/internal/adaptertest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	m.Run()
}

func TestGin(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, s adaptertest.Service) string {
		r := gin.New()
		r.Use(func(c *gin.Context) {
			c.Request = c.Request.WithContext(adaptertest.Tag(c.Request.Context()))
		})
		r.POST("/login", ginauth.Login(s.Client, s.Manager, s.Options...))
		r.POST("/phone", ginauth.Phone(s.Client, s.Manager, s.Options...))
		me := func(c *gin.Context) {
			rec, _ := ginauth.Record(c)
			c.JSON(http.StatusOK, adaptertest.Me(c.Request.Context(), rec))
		}
		r.GET("/me", ginauth.Middleware(s.Manager), me)
		r.GET("/registered", ginauth.RequireSubject(s.Manager), me)
		r.GET("/me/registered", ginauth.Middleware(s.Manager), ginauth.RequireSubject(s.Manager), me)
		r.POST("/logout", ginauth.Logout(s.Manager))
		r.POST("/logout/all", ginauth.LogoutAll(s.Manager))
		return serve(t, r)
	})
}

func TestNilManager(t *testing.T) {
	require.PanicsWithValue(t, "ginauth: nil *session.Manager", func() { ginauth.Middleware(nil) })
}

// serve runs r on a real http.Server and returns its URL.
func serve(t *testing.T, r *gin.Engine) string {
	ln, url := adaptertest.Listen(t)
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	adaptertest.Serve(t, func() error { return srv.Serve(ln) }, srv.Shutdown)
	return url
}
