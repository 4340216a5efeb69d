package engine

import (
	"errors"
	"net"
	"net/url"

	"github.com/wxmp/miniauth/internal/redact"
)

// Scrubber removes the secrets of one call (the Client's and the
// Request's) from text a reply carries, such as an error message that
// echoes a parameter. [Reply.Err] gets one.
type Scrubber struct{ secrets []string }

// Scrub returns text with every secret of the call replaced by
// redact.Placeholder.
func (s Scrubber) Scrub(text string) string { return redact.Strings(text, s.secrets...) }

// ReplyError is a reply that cannot be used: over the size limit, not
// JSON, or (said by the dialect) missing a field it must have. It matches
// the Sentinel its dialect gave ([Config.ErrBadResponse]). Its text says
// why, never quoting the reply: it may hold secrets.
type ReplyError struct {
	// Package and Upstream name the platform package and the platform in
	// the text: "wxauth: code2session: malformed reply from wechat: ...".
	Package, Upstream string
	// Op is the API whose reply it was.
	Op string
	// Why says what is wrong with the reply.
	Why string
	// Sentinel is what the error matches with errors.Is.
	Sentinel error
}

// Error returns text like "wxauth: code2session: malformed reply from
// wechat: not a JSON object".
func (e *ReplyError) Error() string {
	return e.Package + ": " + e.Op + ": malformed reply from " + e.Upstream + ": " + e.Why
}

// Is reports whether target is e's Sentinel.
func (e *ReplyError) Is(target error) bool { return e.Sentinel != nil && target == e.Sentinel }

// BadReply returns a [ReplyError] of c's platform for a reply of op that
// cannot be used, saying why.
func (c *Client) BadReply(op, why string) error {
	return &ReplyError{Package: c.cfg.Package, Upstream: c.cfg.Upstream, Op: op, Why: why, Sentinel: c.cfg.ErrBadResponse}
}

// Malformed returns the error a [BodyDecoder] reports for a body it
// refuses, saying why (never quoting the body): the call fails with
// [Client.BadReply] of that reason.
func Malformed(why string) error { return &malformedErr{why: why} }

type malformedErr struct{ why string }

func (e *malformedErr) Error() string { return "malformed reply: " + e.why }

// StatusError is the default error of a reply whose HTTP status is not
// 200 ([Config.StatusError] replaces it). A 5xx is retried before it
// reaches the caller.
type StatusError struct {
	// Package names the platform package in the text.
	Package string
	// Op is the API that failed.
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Sentinel is what the error matches with errors.Is
	// ([Config.ErrBadResponse]).
	Sentinel error
}

// Error returns text like "douyinauth: code2session: http status 502".
func (e *StatusError) Error() string {
	return StatusText(e.Package, e.Op, e.StatusCode)
}

// Is reports whether target is e's Sentinel.
func (e *StatusError) Is(target error) bool { return e.Sentinel != nil && target == e.Sentinel }

// isDialError reports whether err is a failure to connect, after which the
// request was certainly not sent and a retry is safe.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transportError wraps a failed request's error with its URL redacted. The
// cause stays reachable with errors.Is and errors.As (context.DeadlineExceeded,
// *net.OpError), but the *url.Error in the chain is a redacted copy.
func transportError(pkg, op string, err error, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// A copy whose URL and cause both print without secrets: a caller
		// that digs the *url.Error out of the chain and logs it is safe too.
		err = &url.Error{
			Op:  ue.Op,
			URL: redact.Strings(redact.URL(ue.URL), secrets...),
			Err: &scrubbedErr{msg: redact.Strings(ue.Err.Error(), secrets...), orig: ue.Err},
		}
	}
	return &transportErr{pkg: pkg, op: op, msg: redact.Strings(err.Error(), secrets...), err: err}
}

// transportErr is a request that failed before the platform answered. Its
// text is scrubbed of known secrets as a last line of defence when it is
// made; the secrets themselves are not kept, so that %#v cannot print them.
type transportErr struct {
	pkg string
	op  string
	msg string
	err error
}

func (e *transportErr) Error() string {
	return e.pkg + ": " + e.op + ": request failed: " + e.msg
}

func (e *transportErr) Unwrap() error { return e.err }

// scrubbedErr is the cause of a failed request with its text scrubbed. It
// has no Unwrap, so its text is the only one printed, but errors.Is and
// errors.As still reach the cause (context.DeadlineExceeded, *net.OpError).
type scrubbedErr struct {
	msg  string
	orig error
}

func (e *scrubbedErr) Error() string { return e.msg }

func (e *scrubbedErr) Is(target error) bool { return errors.Is(e.orig, target) }

func (e *scrubbedErr) As(target any) bool { return errors.As(e.orig, target) }
