package kuaishouauth

import (
	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Kuaishou's result codes with a meaning the shared sentinels have. The
// access-token page (https://mp.kuaishou.com/docs/develop/server/getAccessToken.html)
// documents 100200100 and 100200101; the rest are the open platform's codes
// as Kuaishou's own open SDK lists them (KwaiOpenResultCode, written by a
// kuaishou.com author). The mini-program's code2Session page lists none.
const (
	codeOK             = 1
	codeInvalidRequest = 100200100 // parameters missing or malformed
	codeBadClient      = 100200101 // app_id or app_secret wrong
	codeAccessDenied   = 100200102 // refused, e.g. an invalid access token
	codeInvalidGrant   = 100200105 // the code is wrong
	codeTokenExpired   = 100200108 // access token expired
	codeRateLimited    = 100200410 // api rate limit
	codeServerError    = 100200500 // internal error
)

// codeSentinels maps Kuaishou's result codes to the shared sentinels.
var codeSentinels = map[int]error{
	codeBadClient:    miniauth.ErrInvalidCredential,
	codeAccessDenied: miniauth.ErrInvalidCredential,
	codeTokenExpired: miniauth.ErrInvalidCredential,
	codeInvalidGrant: miniauth.ErrInvalidCode,
	codeRateLimited:  miniauth.ErrRateLimited,
	codeServerError:  miniauth.ErrSystemBusy,
}

// APIError is an error reply from Kuaishou: a result other than 1. It
// matches, with [errors.Is], the shared sentinel of its code (the package
// documentation has the table); other codes match none, and Msg says what
// Kuaishou objected to.
type APIError struct {
	// Op is the API that failed: "code2session" or "access_token".
	Op string
	// Code is Kuaishou's result.
	Code int
	// Msg is Kuaishou's error_msg, cleaned of control characters, secrets
	// and excess length.
	Msg string
}

// Error returns text like "kuaishouauth: code2session: result 100200105: invalid grant".
func (e *APIError) Error() string {
	return engine.APIErrorText("kuaishouauth", e.Op, "result", e.Code, e.Msg)
}

// Is reports whether target is the sentinel of e's code.
func (e *APIError) Is(target error) bool {
	return engine.IsSentinel(codeSentinels, e.Code, target)
}

// StatusError is an HTTP reply from Kuaishou with a status other than 200.
// A 5xx is retried before it reaches the caller. It matches
// [miniauth.ErrBadResponse].
type StatusError struct {
	// Op is the API that failed.
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
}

// Error returns text like "kuaishouauth: code2session: http status 502".
func (e *StatusError) Error() string {
	return engine.StatusText("kuaishouauth", e.Op, e.StatusCode)
}

// Is makes a StatusError match [miniauth.ErrBadResponse].
func (e *StatusError) Is(target error) bool { return target == miniauth.ErrBadResponse }
