package wxauth

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// DefaultBaseURL is the address of WeChat's API.
const DefaultBaseURL = "https://api.weixin.qq.com"

// Defaults of the options.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultRetries      = 2
	DefaultBackoffBase  = 100 * time.Millisecond
	DefaultBackoffLimit = 2 * time.Second
)

// An Option configures the client [New] returns. Options validate their
// arguments: New returns the first error an option reports.
type Option func(*config) error

type config struct {
	baseURL      string
	httpClient   *http.Client
	timeout      time.Duration
	retries      int
	backoffBase  time.Duration
	backoffLimit time.Duration
	logger       *slog.Logger
	now          func() time.Time
	tokenStore   TokenStore
	tokenSource  TokenSource
	classicToken bool
	apiSecurity  *apiSecurity       // WithAPISecurity
	observer     *miniauth.Observer // WithObserver
	// component holds the options of [NewComponent]; nil for [New], whose
	// options refuse component options (component_options.go).
	component *componentOptions
}

func defaultConfig() config {
	return config{
		baseURL:      DefaultBaseURL,
		timeout:      DefaultTimeout,
		retries:      DefaultRetries,
		backoffBase:  DefaultBackoffBase,
		backoffLimit: DefaultBackoffLimit,
		logger:       slog.New(slog.DiscardHandler),
		now:          time.Now,
	}
}

// WithBaseURL points the client at another server than WeChat's API: a fake
// (see package wxauthtest), a proxy or a regional endpoint. It must be an
// absolute http or https URL; a trailing slash is ignored.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		b, err := engine.BaseURL("wxauth", base)
		if err != nil {
			return err
		}
		c.baseURL = b
		return nil
	}
}

// WithHTTPClient sets the *http.Client requests go through: the place for a
// proxy, custom TLS, tracing, or an httpmock transport in tests. The client is
// copied, never modified; its Transport is used as is. A nil Transport gets
// the App's default, as without this option: a clone of
// http.DefaultTransport that keeps up to 100 idle connections to WeChat for
// 90 s and speaks HTTP/2 where the server offers it. A server that makes
// more than 100 calls to WeChat at once should give a transport whose pool
// is its real concurrency (below): past the pool, every call opens a new
// connection.
//
// A Transport of your own should pool connections as that default does:
// an *http.Transport with MaxIdleConnsPerHost at least the number of calls
// you expect at once (net/http's default is 2: past that, every call
// opens a new connection, a new TLS handshake against WeChat, and leaves a
// socket in TIME_WAIT), MaxIdleConns no lower, an IdleConnTimeout, and
// ForceAttemptHTTP2 if it sets a custom dialer or TLS config. Start from
// http.DefaultTransport.(*http.Transport).Clone() to keep the proxy,
// dial and TLS-handshake timeouts. The client's Timeout, if any, bounds
// each attempt on top of [WithTimeout].
//
// Redirects are never followed whatever the client's CheckRedirect says,
// since a redirect would carry the secret in the query string to another
// address.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("wxauth: http client must not be nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each request attempt (default 5 s). The context passed
// to a call bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("wxauth: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithRetry sets how many times a failed request is retried (default 2, so
// three attempts at most). Retried are errcode -1 (WeChat's "system busy,
// try again"), HTTP 5xx and connections that could not be made. A timeout
// is not retried: the request may have reached WeChat.
//
// A 5xx from a gateway can come after WeChat has already spent a
// single-use code (js_code, a phone code). The retry then gets errcode
// 40163 ([ErrCodeUsed]) instead of the 5xx: the login fails either way and
// the client calls wx.login again, while a gateway that failed before
// WeChat saw the request lets the retry succeed. Zero turns retries off.
func WithRetry(retries int) Option {
	return func(c *config) error {
		if retries < 0 || retries > 10 {
			return errors.New("wxauth: retries must be between 0 and 10")
		}
		c.retries = retries
		return nil
	}
}

// WithBackoff sets the backoff between retries: with c = min(limit, base *
// 2^n), the n-th retry waits c/2 plus a random time up to c/2 (equal jitter).
// Defaults: 100 ms and 2 s.
// A wait that would pass the context's deadline is not started.
func WithBackoff(base, limit time.Duration) Option {
	return func(c *config) error {
		if base <= 0 || limit < base {
			return errors.New("wxauth: backoff base must be positive and not above its limit")
		}
		c.backoffBase, c.backoffLimit = base, limit
		return nil
	}
}

// WithLogger sets the logger for requests, retries and failures (default:
// none). Log lines carry the API name, attempt, status and errcode; never a
// URL query, a secret, a code, a session_key or a token.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("wxauth: logger must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithTokenStore sets where the access token is shared between the instances
// of a fleet (default: a [MemoryTokenStore] of this App alone). With a shared
// store, one instance refreshes the token while the others wait and read it;
// see [TokenStore] for the contract and package wxauth/redistoken for a
// store on Redis.
//
// When the store fails, a stable_token (the default) or a [WithTokenSource]
// token is fetched directly, since every caller gets the same token; a
// classic token ([WithClassicToken]) is not, since a fetch of its own would
// knock out the token every other instance holds: the call fails with the
// store's error while the token in memory, if any, keeps being used until it
// expires.
func WithTokenStore(s TokenStore) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("wxauth: token store must not be nil")
		}
		c.tokenStore = s
		return nil
	}
}

// WithClassicToken fetches the access token with the classic GET
// /cgi-bin/token instead of POST /cgi-bin/stable_token. Each classic fetch
// issues a new token and retires the previous one five minutes later, so
// every instance of a fleet must share one [TokenStore]. The classic call
// carries the app secret in its query string (it is never logged). Prefer
// the default unless something else of yours also uses the classic token.
func WithClassicToken() Option {
	return func(c *config) error {
		c.classicToken = true
		return nil
	}
}

// WithTokenSource takes access tokens from src instead of WeChat: a central
// token service, or [StaticTokenSource] in tests. The App still caches what
// src returns (until shortly before its ExpiresAt), refreshes it once for all
// concurrent callers, and shares it through the [TokenStore]. If src
// implements [TokenInvalidator], it hears of every token WeChat refused.
func WithTokenSource(src TokenSource) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("wxauth: token source must not be nil")
		}
		c.tokenSource = src
		return nil
	}
}

// WithClock sets the clock the client reads the time from (default
// time.Now): it decides when a cached access token is due and when it has
// expired. It exists for tests that move time by hand; request timeouts and
// backoff still use real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("wxauth: clock must not be nil")
		}
		c.now = now
		return nil
	}
}
