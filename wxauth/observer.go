package wxauth

import (
	"errors"
	"strconv"

	"github.com/wxmp/miniauth"
)

// WithObserver tells o of every call this App makes to WeChat (its API
// name, its HTTP requests, WeChat's errcode when it refused) and of every
// refresh of its access token; see [miniauth.Observer]. Package
// github.com/wxmp/miniauth/otel builds one that records them with
// OpenTelemetry. Without it, a call costs nothing more than a nil test.
func WithObserver(o *miniauth.Observer) Option {
	return func(c *config) error {
		if o == nil {
			return errors.New("wxauth: observer must not be nil")
		}
		c.observer = o
		return nil
	}
}

// ErrCode returns WeChat's errcode as text ("40029"), which an observer is
// told of a refused call ([miniauth.Call.Code]).
func (e *APIError) ErrCode() string { return strconv.Itoa(e.Code) }
