package qqauth

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// DefaultBaseURL is the address of QQ's mini-program API: code2session and
// getToken both live on it.
const DefaultBaseURL = "https://api.q.qq.com"

// Defaults of the options, the same as package wxauth's.
const (
	DefaultTimeout      = engine.DefaultTimeout
	DefaultRetries      = engine.DefaultRetries
	DefaultBackoffBase  = engine.DefaultBackoffBase
	DefaultBackoffLimit = engine.DefaultBackoffLimit
)

// An Option configures the client [New] returns. Options validate their
// arguments: New returns the first error an option reports.
type Option func(*config) error

type config struct {
	engine.Settings
}

func defaultConfig() config {
	return config{engine.DefaultSettings("qqauth", DefaultBaseURL)}
}

// WithBaseURL points the client at another server than QQ's API: a fake (see
// package qqauthtest), a proxy. It replaces the host of every call the
// client makes. It must be an absolute http or https URL without userinfo,
// query or fragment; a trailing slash is ignored.
func WithBaseURL(base string) Option {
	return func(c *config) error { return c.SetBaseURL(base) }
}

// WithHTTPClient sets the *http.Client requests go through (a proxy, custom
// TLS, tracing, an httpmock transport in tests). It is copied, never
// modified; a nil Transport gets the default one, pooled as wxauth's is.
// Redirects are never followed: they would carry the secret in the query
// string to another address.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return c.SetHTTPClient(hc) }
}

// WithTimeout bounds each request attempt (default 5 s). The context passed
// to a call bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error { return c.SetTimeout(d) }
}

// WithRetry sets how many times a failed request is retried (default 2).
// Retried are errcode -1 (QQ's "system busy"), HTTP 5xx and connections
// that could not be made; never a timeout, which may have reached QQ. Zero
// turns retries off.
func WithRetry(retries int) Option {
	return func(c *config) error { return c.SetRetries(retries) }
}

// WithBackoff sets the backoff between retries: with c = min(limit, base *
// 2^n), the n-th retry waits c/2 plus a random time up to c/2. Defaults:
// 100 ms and 2 s.
func WithBackoff(base, limit time.Duration) Option {
	return func(c *config) error { return c.SetBackoff(base, limit) }
}

// WithLogger sets the logger for requests, retries and failures (default:
// none). Log lines never carry a URL query, a secret, a code, a session_key
// or a token.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { return c.SetLogger(l) }
}

// WithClock sets the clock that decides when a cached access token is due
// (default time.Now), for tests that move time by hand.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return c.SetClock(now) }
}

// WithTokenStore sets where the instances of a fleet share the access token
// (default: memory of this App alone). QQ's getToken issues a new token on
// every call and retires the previous one five minutes later, so every
// instance must share one
// store: one of them fetches under the store's lock while the others wait
// and read. Any [miniauth.TokenStore] serves, such as package
// wxauth/redistoken's; QQ's token is stored under "qq:" and the appid, so
// that one store serves apps of every platform.
//
// When the store fails, no token is fetched (a fetch of one instance would
// knock out the token of all the others): the call fails with the store's
// error while a token held in memory keeps being used until it expires.
func WithTokenStore(s miniauth.TokenStore) Option {
	return func(c *config) error { return c.SetTokenStore(s) }
}
