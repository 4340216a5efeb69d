package douyinauth

import (
	"strconv"

	"github.com/wxmp/miniauth"
)

// WithObserver tells o of every call this App makes to Douyin (its API
// name, its HTTP requests, Douyin's error code when it refused); see
// [miniauth.Observer]. Package github.com/wxmp/miniauth/otel builds one
// that records them with OpenTelemetry. Without it, a call costs nothing
// more than a nil test.
func WithObserver(o *miniauth.Observer) Option {
	return func(c *config) error {
		return c.SetObserver(o)
	}
}

// ErrCode returns Douyin's err_no or error_code as text, which an observer
// is told of a refused call ([miniauth.Call.Code]).
func (e *APIError) ErrCode() string { return strconv.FormatInt(e.Code, 10) }
