package alipayauth

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth/internal/engine"
)

// DefaultBaseURL is the address of Alipay's open platform gateway; requests
// go to DefaultBaseURL + "/gateway.do".
const DefaultBaseURL = "https://openapi.alipay.com"

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
	aesKey []byte
}

func defaultConfig() config {
	return config{Settings: engine.DefaultSettings("alipayauth", DefaultBaseURL)}
}

// WithBaseURL points the client at another server than Alipay's gateway: a
// fake (see package alipayauthtest), a proxy, or the sandbox
// (https://openapi-sandbox.dl.alipaydev.com). Requests go to base +
// "/gateway.do". It must be an absolute http or https URL without userinfo,
// query or fragment; a trailing slash is ignored.
func WithBaseURL(base string) Option {
	return func(c *config) error { return c.SetBaseURL(base) }
}

// WithHTTPClient sets the *http.Client requests go through: a proxy, custom
// TLS, tracing, or an httpmock transport in tests. The client is copied,
// never modified. A nil Transport gets the default every platform package
// uses (a clone of http.DefaultTransport keeping up to 100 idle
// connections). Redirects are never followed, whatever the client's
// CheckRedirect says.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return c.SetHTTPClient(hc) }
}

// WithTimeout bounds each request attempt (default 5 s). The context passed
// to a call bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error { return c.SetTimeout(d) }
}

// WithRetry sets how many times a failed request is retried (default 2).
// Retried are gateway code 20000 (service unavailable: "稍后重试", try again
// later), HTTP 5xx and connections that could not be made. A timeout is not
// retried: the request may have reached Alipay. Zero turns retries off.
func WithRetry(retries int) Option {
	return func(c *config) error { return c.SetRetries(retries) }
}

// WithBackoff sets the backoff between retries: with c = min(limit, base *
// 2^n), the n-th retry waits c/2 plus a random time up to c/2. Defaults:
// 100 ms and 2 s. A wait that would pass the context's deadline is not
// started.
func WithBackoff(base, limit time.Duration) Option {
	return func(c *config) error { return c.SetBackoff(base, limit) }
}

// WithLogger sets the logger for requests, retries and failures (default:
// none). Log lines carry the API name, attempt, status and Alipay's codes;
// never a code, a signature, a key or a token.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { return c.SetLogger(l) }
}

// WithClock sets the clock the request timestamps are read from (default
// time.Now). Alipay refuses a request whose timestamp is far from its own
// time; the option exists for tests.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return c.SetClock(now) }
}

// WithAESKey sets the app's AES key (开发设置 > 接口内容加密方式), in the
// base64 the console shows, which [App.DecryptPhone] decrypts phone numbers
// with. It must be base64 of 16, 24 or 32 bytes (the console's keys are 16
// bytes, 24 characters). Without it, DecryptPhone fails with [ErrNoAESKey].
func WithAESKey(key string) Option {
	return func(c *config) error {
		b, err := base64.StdEncoding.Strict().DecodeString(key)
		if err != nil || (len(b) != 16 && len(b) != 24 && len(b) != 32) {
			return errors.New("alipayauth: AES key must be standard base64 of 16, 24 or 32 bytes")
		}
		c.aesKey = b
		return nil
	}
}
