package engine_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

func TestSettingsSetters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  func(*engine.Settings) error
		want string // error text, or "" for none
	}{
		{"base url", func(s *engine.Settings) error { return s.SetBaseURL("https://h/") }, ""},
		{"bad base url", func(s *engine.Settings) error { return s.SetBaseURL("h") }, "qqauth: base URL must be an absolute http(s) URL"},
		{"http client", func(s *engine.Settings) error { return s.SetHTTPClient(&http.Client{}) }, ""},
		{"nil http client", func(s *engine.Settings) error { return s.SetHTTPClient(nil) }, "qqauth: http client must not be nil"},
		{"timeout", func(s *engine.Settings) error { return s.SetTimeout(time.Second) }, ""},
		{"zero timeout", func(s *engine.Settings) error { return s.SetTimeout(0) }, "qqauth: timeout must be positive"},
		{"no retries", func(s *engine.Settings) error { return s.SetRetries(0) }, ""},
		{"too many retries", func(s *engine.Settings) error { return s.SetRetries(11) }, "qqauth: retries must be between 0 and 10"},
		{"negative retries", func(s *engine.Settings) error { return s.SetRetries(-1) }, "qqauth: retries must be between 0 and 10"},
		{"backoff", func(s *engine.Settings) error { return s.SetBackoff(time.Millisecond, time.Second) }, ""},
		{"backoff limit below base", func(s *engine.Settings) error { return s.SetBackoff(time.Second, time.Millisecond) }, "qqauth: backoff base must be positive"},
		{"logger", func(s *engine.Settings) error { return s.SetLogger(slog.Default()) }, ""},
		{"nil logger", func(s *engine.Settings) error { return s.SetLogger(nil) }, "qqauth: logger must not be nil"},
		{"clock", func(s *engine.Settings) error { return s.SetClock(time.Now) }, ""},
		{"nil clock", func(s *engine.Settings) error { return s.SetClock(nil) }, "qqauth: clock must not be nil"},
		{"token store", func(s *engine.Settings) error { return s.SetTokenStore(miniauth.NewMemoryTokenStore()) }, ""},
		{"nil token store", func(s *engine.Settings) error { return s.SetTokenStore(nil) }, "qqauth: token store must not be nil"},
		{"token source", func(s *engine.Settings) error { return s.SetTokenSource(miniauth.StaticTokenSource("T")) }, ""},
		{"nil token source", func(s *engine.Settings) error { return s.SetTokenSource(nil) }, "qqauth: token source must not be nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := engine.DefaultSettings("qqauth", "https://api.q.qq.com")
			before := s
			err := tt.set(&s)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, before.Timeout, s.Timeout, "a refused value changes nothing")
			assert.Equal(t, before.Retries, s.Retries)
		})
	}
}

// TestSettingsBuildTheEngine: Config and TokenConfig carry the settings
// into the engine; the user's token source wins over the platform's fetch.
func TestSettingsBuildTheEngine(t *testing.T) {
	t.Parallel()
	s := engine.DefaultSettings("qqauth", "https://api.q.qq.com")
	require.NoError(t, s.SetRetries(0))
	require.NoError(t, s.SetTimeout(time.Second))
	cfg := s.Config("qq", errBad, testSecret)
	assert.Equal(t, "qqauth", cfg.Package)
	assert.Equal(t, "qq", cfg.Upstream)
	assert.Equal(t, 0, cfg.Retries)
	assert.Equal(t, time.Second, cfg.Timeout)
	assert.Equal(t, []string{testSecret}, cfg.Secrets)
	c, err := engine.New(cfg)
	require.NoError(t, err)

	fetch := engine.TokenSourceFunc(func(context.Context) (*miniauth.Token, error) { return &miniauth.Token{AccessToken: "FETCHED"}, nil })
	for _, tt := range []struct {
		user miniauth.TokenSource
		want string
	}{{nil, "FETCHED"}, {miniauth.StaticTokenSource("USERS"), "USERS"}} {
		s := s
		if tt.user != nil {
			require.NoError(t, s.SetTokenSource(tt.user))
		}
		cache, err := c.NewTokenCache(s.TokenConfig("qq123", fetch))
		require.NoError(t, err)
		tok, err := cache.Get(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tt.want, tok)
	}
}
