package wecomauth

import (
	"errors"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// ErrOtherCorp means jscode2session answered for a user of another corp
// than the App's: the mini-program was opened in a WeCom that is not the
// one the App serves. The login is refused.
var ErrOtherCorp = errors.New("wecomauth: the user belongs to another corp")

// codeSentinels maps WeCom's errcodes to the shared sentinels. Codes from
// WeCom's global table (https://developer.work.weixin.qq.com/document/path/90313),
// its gettoken page (https://developer.work.weixin.qq.com/document/path/91039)
// and its code2Session page
// (https://developer.work.weixin.qq.com/document/path/91507, 40029 invalid
// code).
var codeSentinels = map[int]error{
	-1:    miniauth.ErrSystemBusy,
	40029: miniauth.ErrInvalidCode,
	45009: miniauth.ErrQuotaExceeded,     // api calls over the app's limit (as WeChat's 45009)
	40001: miniauth.ErrInvalidCredential, // invalid secret
	40013: miniauth.ErrInvalidCredential, // invalid corpid
	40014: miniauth.ErrInvalidCredential, // invalid access_token
	41001: miniauth.ErrInvalidCredential, // access_token missing
	41004: miniauth.ErrInvalidCredential, // corpsecret missing
	42001: miniauth.ErrInvalidCredential, // access_token expired
	48001: miniauth.ErrNotAllowed,        // api unauthorized
	60011: miniauth.ErrNotAllowed,        // no privilege to access this member
	60020: miniauth.ErrNotAllowed,        // the server's IP is not trusted
}

// isTokenError reports whether err is WeCom refusing the access token a
// call carried (40014 invalid, 42001 expired): the call may succeed once
// with a new token.
func isTokenError(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Op == opToken {
		return false
	}
	return ae.Code == 40014 || ae.Code == 42001
}

// APIError is an error reply from WeCom: a non-zero errcode. It matches, with
// [errors.Is], the shared sentinel of its errcode (the package
// documentation has the table); other codes match none, and Msg says what
// WeCom objected to.
type APIError struct {
	// Op is the API that failed: "jscode2session" or "gettoken".
	Op string
	// Code is WeCom's errcode.
	Code int
	// Msg is WeCom's errmsg, cleaned of control characters, secrets and
	// excess length.
	Msg string
}

// Error returns text like "wecomauth: jscode2session: errcode 40029: invalid code".
func (e *APIError) Error() string {
	return engine.APIErrorText("wecomauth", e.Op, "errcode", e.Code, e.Msg)
}

// Is reports whether target is the sentinel of e's errcode.
func (e *APIError) Is(target error) bool {
	return engine.IsSentinel(codeSentinels, e.Code, target)
}

// StatusError is an HTTP reply from WeCom with a status other than 200. A 5xx
// is retried before it reaches the caller. It matches
// [miniauth.ErrBadResponse].
type StatusError struct {
	// Op is the API that failed.
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
}

// Error returns text like "wecomauth: jscode2session: http status 502".
func (e *StatusError) Error() string {
	return engine.StatusText("wecomauth", e.Op, e.StatusCode)
}

// Is makes a StatusError match [miniauth.ErrBadResponse].
func (e *StatusError) Is(target error) bool { return target == miniauth.ErrBadResponse }
