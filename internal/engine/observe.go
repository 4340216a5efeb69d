package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/wxmp/miniauth"
)

// CodedError is implemented by a platform's typed error that carries the
// platform's own error code (wxauth.APIError: WeChat's errcode). The code
// is what an observer is told of a refused call ([miniauth.Call.Code]); it
// must be the platform's code, never a value of the request.
type CodedError interface {
	error
	// ErrCode returns the platform's error code as text ("40029").
	ErrCode() string
}

// observedDo is [Client.Do] told to o: a call that starts, its HTTP
// requests, and its end with its outcome.
func (c *Client) observedDo(ctx context.Context, req *Request, out Reply, o *miniauth.Observer) error {
	call := &miniauth.Call{
		Platform: c.cfg.Platform,
		API:      req.Op,
		Method:   req.Method,
		Server:   serverOf(req),
		Start:    time.Now(),
	}
	if o.CallStart != nil {
		if cctx := o.CallStart(ctx, call); cctx != nil {
			ctx = cctx
		}
	}
	err := c.do(ctx, req, out, call)
	if err != nil {
		call.Err = err
		var ce CodedError
		if errors.As(err, &ce) {
			call.Code = ce.ErrCode()
		}
	}
	if o.CallEnd != nil {
		o.CallEnd(ctx, call)
	}
	return err
}

// observeRequest tells the Client's observer of one HTTP request of call,
// begun at start, that ended with *err.
func (c *Client) observeRequest(ctx context.Context, call *miniauth.Call, start time.Time, err *error) {
	if f := c.cfg.Observer.HTTPRequest; f != nil {
		f(ctx, &miniauth.HTTPRequest{Call: call, Attempt: call.Attempts,
			Duration: time.Since(start), Status: call.Status, Err: *err})
	}
}

// serverOf returns the scheme and host of req's URL, without its path: the
// Base, or the start of a Path that is the full URL.
func serverOf(req *Request) string {
	if req.Base != "" {
		return req.Base
	}
	u := req.Path
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[:i+3+j]
		}
		if j := strings.IndexAny(u[i+3:], "?#"); j >= 0 {
			return u[:i+3+j]
		}
		return u
	}
	return ""
}
