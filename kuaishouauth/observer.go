package kuaishouauth

import (
	"strconv"

	"github.com/wxmp/miniauth"
)

// WithObserver tells o of every call this App makes to Kuaishou (its API
// name, its HTTP requests, Kuaishou's error code when it refused) and of
// every refresh of its access token, if it has one; see
// [miniauth.Observer]. Package github.com/wxmp/miniauth/otel builds one
// that records them with OpenTelemetry. Without it, a call costs nothing
// more than a nil test.
func WithObserver(o *miniauth.Observer) Option {
	return func(c *config) error {
		return c.SetObserver(o)
	}
}

// ErrCode returns Kuaishou's error code as text, which an observer is told
// of a refused call ([miniauth.Call.Code]).
func (e *APIError) ErrCode() string { return strconv.Itoa(e.Code) }
