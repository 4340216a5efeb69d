package baiduauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
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
	baseURL      string
	httpClient   *http.Client
	timeout      time.Duration
	retries      int
	backoffBase  time.Duration
	backoffLimit time.Duration
	logger       *slog.Logger
	observer     *miniauth.Observer // WithObserver
}

func defaultConfig() config {
	return config{
		baseURL:      DefaultBaseURL,
		timeout:      DefaultTimeout,
		retries:      DefaultRetries,
		backoffBase:  DefaultBackoffBase,
		backoffLimit: DefaultBackoffLimit,
		logger:       slog.New(slog.DiscardHandler),
	}
}

// WithBaseURL points the client at another server than Baidu's: a fake
// (see package baiduauthtest) or a proxy. It must be an absolute http or
// https URL without userinfo, query or fragment; a trailing slash is
// ignored.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		b, err := engine.BaseURL("baiduauth", base)
		if err != nil {
			return err
		}
		c.baseURL = b
		return nil
	}
}

// WithHTTPClient sets the *http.Client requests go through: a proxy, custom
// TLS, tracing, or an httpmock transport in tests. The client is copied,
// never modified. A nil Transport gets the default every platform package
// uses (a clone of http.DefaultTransport keeping up to 100 idle
// connections). Redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("baiduauth: http client must not be nil")
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
			return errors.New("baiduauth: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithRetry sets how many times a failed request is retried (default 2).
// Retried are HTTP 5xx and connections that could not be made (Baidu
// documents no "busy" code). A timeout is not retried: the request may have
// reached Baidu. Zero turns retries off.
func WithRetry(retries int) Option {
	return func(c *config) error {
		if retries < 0 || retries > engine.MaxRetries {
			return fmt.Errorf("baiduauth: retries must be between 0 and %d", engine.MaxRetries)
		}
		c.retries = retries
		return nil
	}
}

// WithBackoff sets the backoff between retries: with c = min(limit, base *
// 2^n), the n-th retry waits c/2 plus a random time up to c/2. Defaults:
// 100 ms and 2 s.
func WithBackoff(base, limit time.Duration) Option {
	return func(c *config) error {
		if base <= 0 || limit < base {
			return errors.New("baiduauth: backoff base must be positive and not above its limit")
		}
		c.backoffBase, c.backoffLimit = base, limit
		return nil
	}
}

// WithLogger sets the logger for requests, retries and failures (default:
// none). Log lines never carry a code, the secret or a session key.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("baiduauth: logger must not be nil")
		}
		c.logger = l
		return nil
	}
}
