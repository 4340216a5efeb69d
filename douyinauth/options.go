package douyinauth

import (
	"crypto/rsa"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// The hosts the client calls: developer.toutiao.com serves jscode2session,
// open.douyin.com the client_token and get_phonenumber_info.
const (
	DefaultMiniAppURL = "https://developer.toutiao.com"
	DefaultOpenURL    = "https://open.douyin.com"
)

// Defaults of the options.
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
	engine.Settings        // BaseURL: developer.toutiao.com (jscode2session)
	openURL         string // open.douyin.com (client_token, get_phonenumber_info)
	privateKey      *rsa.PrivateKey
	stableToken     bool
}

func defaultConfig() config {
	return config{Settings: engine.DefaultSettings("douyinauth", DefaultMiniAppURL), openURL: DefaultOpenURL}
}

// WithBaseURL points the client at another server than Douyin's: a fake
// (see package douyinauthtest), a proxy, or Douyin's sandbox
// (https://open-sandbox.douyin.com, which public SDKs use for both hosts'
// paths). It replaces both hosts the client calls (developer.toutiao.com
// and open.douyin.com), so that one server serves every path. It must be an absolute http or https URL; a trailing
// slash is ignored.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		if err := c.SetBaseURL(base); err != nil {
			return err
		}
		c.openURL = c.BaseURL
		return nil
	}
}

// WithHTTPClient sets the *http.Client requests go through: the place for a
// proxy, custom TLS, tracing, or an httpmock transport in tests. The client
// is copied, never modified; a nil Transport gets the App's default (a clone
// of http.DefaultTransport with a pool sized for concurrent calls).
// Redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return c.SetHTTPClient(hc) }
}

// WithTimeout bounds each request attempt (default 5 s). The context passed
// to a call bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error { return c.SetTimeout(d) }
}

// WithRetry sets how many times a failed request is retried (default 2, so
// three attempts at most). Retried are Douyin's "busy" codes (err_no -1,
// 28001005, 28001006), HTTP 5xx and connections that could not be made. A
// timeout is not retried: the request may have reached Douyin. Zero turns
// retries off.
func WithRetry(retries int) Option {
	return func(c *config) error { return c.SetRetries(retries) }
}

// WithBackoff sets the backoff between retries: with c = min(limit, base *
// 2^n), the n-th retry waits c/2 plus a random time up to c/2 (equal
// jitter). Defaults: 100 ms and 2 s. A wait that would pass the context's
// deadline is not started.
func WithBackoff(base, limit time.Duration) Option {
	return func(c *config) error { return c.SetBackoff(base, limit) }
}

// WithLogger sets the logger for requests, retries and failures (default:
// none). Log lines carry the API name, attempt, status and error code;
// never a secret, a code, a session_key, a token or a phone number.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { return c.SetLogger(l) }
}

// WithClock sets the clock the client reads the time from (default
// time.Now): it decides when the cached client_token is due. It exists for
// tests that move time by hand; timeouts and backoff use real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { return c.SetClock(now) }
}

// WithPrivateKey sets the app's RSA private key, the pair of the 应用公钥
// registered in the console (控制台 > 小程序 > 开发 > 开发配置), which
// [App.GetPhoneNumber] needs: Douyin encrypts the phone number with that
// public key. The key is PEM ("RSA PRIVATE KEY" or "PRIVATE KEY") or the
// bare base64 of its DER, PKCS#1 or PKCS#8, of at least 2048 bits; anything
// else is an error at [New], which never quotes the key.
func WithPrivateKey(key string) Option {
	return func(c *config) error {
		k, err := parsePrivateKey(key)
		if err != nil {
			return err
		}
		c.privateKey = k
		return nil
	}
}

// WithStableClientToken takes the client_token from POST
// /oauth/stable_client_token/ instead of /oauth/client_token/. A stable
// token is the same for every caller until it expires, so the instances of a
// fleet can each fetch it without knocking out each other's token; a plain
// client_token fetch shortens the previous token to 5 minutes and keeps only
// the two newest, so more than two instances fetching on their own keep
// invalidating each other (each recovers with one retry, at a cost).
// https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/account-permission/generate-stable-client-token
func WithStableClientToken() Option {
	return func(c *config) error {
		c.stableToken = true
		return nil
	}
}

// WithTokenStore sets where the instances of a fleet share the client_token
// (default: memory of this App alone). A client_token fetch cuts the
// previous token to 5 minutes and only the two newest stay valid, so a
// fleet shares one store: one instance fetches under the store's lock while
// the others wait and read. Any [miniauth.TokenStore] serves, such as
// package wxauth/redistoken's; the token is stored under "douyin:" and the
// appid, so that one store serves apps of every platform.
//
// When the store fails, a plain client_token is not fetched (the call fails
// with the store's error while a token held in memory keeps being used
// until it expires); a stable one ([WithStableClientToken]) is fetched
// directly.
func WithTokenStore(s miniauth.TokenStore) Option {
	return func(c *config) error { return c.SetTokenStore(s) }
}
