package session

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
)

// DefaultTTL is how long a login token is valid by default.
const DefaultTTL = 24 * time.Hour

// MaxTTL is the longest TTL [WithTTL] accepts.
const MaxTTL = 366 * 24 * time.Hour

// DefaultStoreTimeout is how long the [Manager] waits for one call of its
// store by default (see [WithStoreTimeout]).
const DefaultStoreTimeout = time.Second

// An Option configures the [Manager] that [NewManager] returns. Options
// validate their arguments; a Manager built with an option that refused its
// argument reports it from [Manager.Err] and fails every call.
type Option func(*config) error

type config struct {
	ttl          time.Duration
	now          func() time.Time
	logger       *slog.Logger
	token        tokenSource
	errorHandler ErrorHandler
	origins      *http.CrossOriginProtection // checks unsafe requests in cookie mode
	storeTimeout time.Duration
	idle         time.Duration                        // WithIdleTimeout; 0: none
	recordCheck  func(context.Context, *Record) error // WithRecordCheck; nil: none
	afterIssue   func(context.Context, *Record)       // WithAfterIssue; nil: none
	depTimeout   time.Duration
	dependencies []registered
	observer     *miniauth.Observer // WithObserver
}

func defaultConfig() config {
	return config{
		ttl:          DefaultTTL,
		now:          time.Now,
		token:        tokenSource{kind: fromBearer},
		errorHandler: WriteError,
		origins:      http.NewCrossOriginProtection(),
		storeTimeout: DefaultStoreTimeout,
		depTimeout:   DefaultDependencyTimeout,
	}
}

// WithStoreTimeout bounds each call the Manager makes to its store (Issue,
// Validate, Revoke, RevokeAll), from 10 ms to one minute (default
// [DefaultStoreTimeout]). The call's context ends after d, and a call not
// done by then fails with [ErrStoreUnavailable]: a hung store (a frozen
// Redis, a dead connection the kernel has not noticed) costs a request one
// wait of d and a 503 instead of the client library's own timeouts and
// retries, which can take many seconds. A store that ignores its context
// is waited for no longer: its call runs on a goroutine of its own, which
// the Manager stops waiting for at d (a [ContextStore] that honours its
// context runs on the caller's goroutine instead); a [MemoryStore] never
// waits and is not bounded.
//
// Keep d above the store's slowest healthy answer: a call that times out
// counts as an outage. The client library's timeouts still matter: set them
// below d (see package redisstore) so that a connection that hung is not
// handed to the next request.
func WithStoreTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond || d > time.Minute {
			return errors.New("session: store timeout must be between 10ms and 1m")
		}
		c.storeTimeout = d
		return nil
	}
}

// WithTTL sets how long a token is valid after it is issued (default
// [DefaultTTL]): from one second to [MaxTTL]. It is the session's absolute
// lifetime ([Record.ExpiresAt]): no use extends it. With
// [WithIdleTimeout] a token also ends sooner when it goes unused. When a
// token expires, the mini-program logs in again (wx.login is silent).
func WithTTL(ttl time.Duration) Option {
	return func(c *config) error {
		if ttl < time.Second || ttl > MaxTTL {
			return errors.New("session: ttl must be between 1s and 366 days")
		}
		c.ttl = ttl
		return nil
	}
}

// WithClock sets the clock that stamps and checks expiry times (default
// time.Now), for tests. A memory store that [NewManager] creates uses it too.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("session: clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// WithLogger sets the logger of the Manager, its middleware and the
// handlers built on it ([LoginHandler], [PhoneHandler], [LogoutHandler]) (default: none; but a Manager whose options
// failed logs its refusals to slog.Default when it has no logger). Log lines never carry a token, a
// code or a session_key. Refused requests (bad or expired tokens, bad login
// input) are logged at Debug, failures of WeChat at Warn, server
// misconfiguration at Error. An outage of the store is logged once at Error
// when it starts (with its first cause) and once at Warn when it ends (with
// the number of calls refused in between); the requests refused during it
// are logged at Debug.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("session: logger must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithTokenHeader makes [Manager.Middleware] read the token from the whole
// value of the named request header (such as "X-Auth-Token") instead of
// "Authorization: Bearer <token>". The last of WithTokenHeader and
// [WithTokenCookie] wins.
func WithTokenHeader(name string) Option {
	return func(c *config) error {
		if !validHTTPToken(name) {
			return errors.New("session: token header name must be a valid header name")
		}
		c.token = tokenSource{kind: fromHeader, name: http.CanonicalHeaderKey(name)}
		return nil
	}
}

// WithTokenCookie makes [Manager.Middleware] (and [Manager.Authenticate])
// read the token from the named cookie instead of the Authorization header,
// for clients that are browsers (a web-view or H5 page). The last of
// [WithTokenHeader] and WithTokenCookie wins.
//
// In cookie mode:
//   - [LoginHandler] and [PhoneHandler] set the cookie (HttpOnly, Secure,
//     SameSite=Lax, Path=/, Max-Age the TTL) and leave the token out of their
//     JSON answer, which a script could read; [LogoutHandler] clears it.
//   - The middleware and those handlers refuse a request with an unsafe method
//     (POST, PUT, PATCH, DELETE, ...) that a browser sent from another origin,
//     as [http.CrossOriginProtection] decides (Sec-Fetch-Site, else Origin
//     against Host): 403 cross_origin_request. A browser attaches the cookie
//     to a form that any site posts, so without this check any page could act
//     in the user's name (CSRF). Requests without those headers (not from a
//     browser) pass. Keep GET and HEAD free of side effects: they are not
//     checked.
//
// Name the cookie with the "__Host-" prefix (such as "__Host-session"): a
// browser then accepts it only as set by this host, Secure, with Path=/ and
// no Domain, so a page on a sibling subdomain cannot plant a cookie of the
// same name that the middleware would read first (session fixation).
func WithTokenCookie(name string) Option {
	return func(c *config) error {
		if !validHTTPToken(name) {
			return errors.New("session: token cookie name must be a valid cookie name")
		}
		c.token = tokenSource{kind: fromCookie, name: name}
		return nil
	}
}

// WithErrorHandler replaces how [Manager.Middleware] and the handlers built
// on the Manager ([LoginHandler], [PhoneHandler], [LogoutHandler]) answer a
// refused request (default [WriteError]: a JSON
// body {"error": code, "message": text}). The handler gets the status, the
// machine code and the message in an [*HTTPError], whose Err is the cause,
// for logs only. Headers such as WWW-Authenticate and Allow are set before
// it is called.
func WithErrorHandler(h ErrorHandler) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("session: error handler must not be nil")
		}
		c.errorHandler = h
		return nil
	}
}

// validHTTPToken reports whether name can name a header or a cookie: an
// RFC 9110 token of at most 256 bytes.
func validHTTPToken(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || isSeparator(c) {
			return false
		}
	}
	return true
}

func isSeparator(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return true
	}
	return false
}
