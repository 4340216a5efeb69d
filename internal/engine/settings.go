package engine

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
)

// Settings are the options every platform client shares, as its Option
// functions set them: each setter checks its argument as wxauth's option
// of the same idea does, with an error prefixed by Package, so that a
// platform's WithTimeout is one line:
//
//	func WithTimeout(d time.Duration) Option {
//		return func(c *config) error { return c.SetTimeout(d) } // config embeds engine.Settings
//	}
//
// [Settings.Config] and [Settings.TokenConfig] then build the engine from
// them in the platform's New.
type Settings struct {
	// Package prefixes the setters' errors ("qqauth").
	Package string
	// BaseURL is the address of the platform's API (WithBaseURL). A
	// platform with several hosts keeps the others beside it.
	BaseURL string
	// HTTPClient is the client requests go through (WithHTTPClient);
	// nil: [DefaultTransport].
	HTTPClient *http.Client
	// Timeout, Retries, BackoffBase and BackoffLimit are the request
	// loop's (WithTimeout, WithRetry, WithBackoff).
	Timeout                   time.Duration
	Retries                   int
	BackoffBase, BackoffLimit time.Duration
	// Logger receives the request loop's lines (WithLogger).
	Logger *slog.Logger
	// Now is the clock of the token cache and the memory store (WithClock).
	Now func() time.Time
	// TokenStore and TokenSource are the app token's store and source
	// (WithTokenStore, WithTokenSource); nil: a memory store, the
	// platform's own fetch.
	TokenStore  miniauth.TokenStore
	TokenSource miniauth.TokenSource
	// Observer is told of the client's calls and token refreshes
	// (WithObserver); nil: none.
	Observer *miniauth.Observer
}

// DefaultSettings returns the defaults of a platform package pkg whose API
// is at baseURL: [DefaultTimeout], [DefaultRetries], [DefaultBackoffBase],
// [DefaultBackoffLimit], no logging, time.Now.
func DefaultSettings(pkg, baseURL string) Settings {
	return Settings{
		Package:      pkg,
		BaseURL:      baseURL,
		Timeout:      DefaultTimeout,
		Retries:      DefaultRetries,
		BackoffBase:  DefaultBackoffBase,
		BackoffLimit: DefaultBackoffLimit,
		Logger:       slog.New(slog.DiscardHandler),
		Now:          time.Now,
	}
}

func (s *Settings) errorf(msg string) error { return errors.New(s.Package + ": " + msg) }

// SetBaseURL sets BaseURL, checked by [BaseURL] (an absolute http(s) URL
// without userinfo, query or fragment; trailing slashes dropped).
func (s *Settings) SetBaseURL(base string) error {
	b, err := BaseURL(s.Package, base)
	if err != nil {
		return err
	}
	s.BaseURL = b
	return nil
}

// SetHTTPClient sets HTTPClient, which must not be nil.
func (s *Settings) SetHTTPClient(hc *http.Client) error {
	if hc == nil {
		return s.errorf("http client must not be nil")
	}
	s.HTTPClient = hc
	return nil
}

// SetTimeout sets Timeout, which must be positive.
func (s *Settings) SetTimeout(d time.Duration) error {
	if d <= 0 {
		return s.errorf("timeout must be positive")
	}
	s.Timeout = d
	return nil
}

// SetRetries sets Retries, between 0 and [MaxRetries].
func (s *Settings) SetRetries(n int) error {
	if n < 0 || n > MaxRetries {
		return s.errorf("retries must be between 0 and 10")
	}
	s.Retries = n
	return nil
}

// SetBackoff sets BackoffBase and BackoffLimit: base positive and not
// above limit.
func (s *Settings) SetBackoff(base, limit time.Duration) error {
	if base <= 0 || limit < base {
		return s.errorf("backoff base must be positive and not above its limit")
	}
	s.BackoffBase, s.BackoffLimit = base, limit
	return nil
}

// SetLogger sets Logger, which must not be nil.
func (s *Settings) SetLogger(l *slog.Logger) error {
	if l == nil {
		return s.errorf("logger must not be nil")
	}
	s.Logger = l
	return nil
}

// SetClock sets Now, which must not be nil.
func (s *Settings) SetClock(now func() time.Time) error {
	if now == nil {
		return s.errorf("clock must not be nil")
	}
	s.Now = now
	return nil
}

// SetTokenStore sets TokenStore, which must not be nil.
func (s *Settings) SetTokenStore(st miniauth.TokenStore) error {
	if st == nil {
		return s.errorf("token store must not be nil")
	}
	s.TokenStore = st
	return nil
}

// SetTokenSource sets TokenSource, which must not be nil.
func (s *Settings) SetTokenSource(src miniauth.TokenSource) error {
	if src == nil {
		return s.errorf("token source must not be nil")
	}
	s.TokenSource = src
	return nil
}

// SetObserver sets Observer, which must not be nil.
func (s *Settings) SetObserver(o *miniauth.Observer) error {
	if o == nil {
		return s.errorf("observer must not be nil")
	}
	s.Observer = o
	return nil
}

// Config returns the request loop's [Config] of these settings for the
// platform named upstream, whose malformed replies match errBadResponse,
// with the app's secrets. The platform may set Config.StatusError and
// UserAgent on the result before [New].
func (s *Settings) Config(upstream string, errBadResponse error, secrets ...string) Config {
	return Config{
		Package:        s.Package,
		Upstream:       upstream,
		HTTPClient:     s.HTTPClient,
		Timeout:        s.Timeout,
		Retries:        s.Retries,
		BackoffBase:    s.BackoffBase,
		BackoffLimit:   s.BackoffLimit,
		Logger:         s.Logger,
		Secrets:        secrets,
		ErrBadResponse: errBadResponse,
		Observer:       s.Observer,
	}
}

// TokenConfig returns the [TokenConfig] of the app key whose tokens come
// from TokenSource if set, from fetch (the platform's token endpoint)
// otherwise. The platform sets Margin and FailClosed on the result for its
// renewal rule.
func (s *Settings) TokenConfig(key string, fetch miniauth.TokenSource) TokenConfig {
	src := s.TokenSource
	if src == nil {
		src = fetch
	}
	return TokenConfig{Key: key, Source: src, Store: s.TokenStore, Now: s.Now}
}
