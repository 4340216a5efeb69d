package baiduauth

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth/internal/engine"
)

// DefaultBaseURL is the address of Baidu's smart-program API host; the
// login goes to DefaultBaseURL + "/oauth/jscode2sessionkey".
const DefaultBaseURL = "https://spapi.baidu.com"

// Defaults of the options, the same as every platform package's.
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
	return config{engine.DefaultSettings("baiduauth", DefaultBaseURL)}
}

// WithBaseURL points the client at another server than Baidu's: a fake
// (see package baiduauthtest) or a proxy. It must be an absolute http or
// https URL without userinfo, query or fragment; a trailing slash is
// ignored.
func WithBaseURL(base string) Option {
	return func(c *config) error { return c.SetBaseURL(base) }
}

// WithHTTPClient sets the *http.Client requests go through: a proxy, custom
// TLS, tracing, or an httpmock transport in tests. The client is copied,
// never modified. A nil Transport gets the default every platform package
// uses (a clone of http.DefaultTransport keeping up to 100 idle
// connections). Redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return c.SetHTTPClient(hc) }
}

// WithTimeout bounds each request attempt (default 5 s). The context passed
// to a call bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error { return c.SetTimeout(d) }
}

// WithRetry sets how many times a failed request is retried (default 2).
// Retried are HTTP 5xx and connections that could not be made (Baidu
// documents no "busy" code). A timeout is not retried: the request may have
// reached Baidu. Zero turns retries off.
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
// none). Log lines never carry a code, the secret or a session key.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { return c.SetLogger(l) }
}
