package qqauth

import (
	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// codeSentinels maps QQ's errcodes to the shared sentinels. QQ documents
// -1, 40029 and 45011 for code2Session
// (https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_login.html#code2session,
// mirrored at https://w3cschool.cn/qqxiaochengxu/qqxiaochengxu-c5fl3875.html),
// and -1, 40001, 40002 and 40013 for getToken
// (https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_use.html).
// 40163, 40125, 40014 and 42001 are WeChat's codes on the same wire (QQ's
// server API is WeChat's); QQ's pages do not list them.
var codeSentinels = map[int]error{
	-1:    miniauth.ErrSystemBusy,
	40029: miniauth.ErrInvalidCode,
	40163: miniauth.ErrCodeUsed, // WeChat's "code been used"
	45011: miniauth.ErrRateLimited,
	40001: miniauth.ErrInvalidCredential, // getToken: bad secret; other calls: bad access_token
	40013: miniauth.ErrInvalidCredential, // invalid appid
	40125: miniauth.ErrInvalidCredential, // invalid appsecret (WeChat's code2session code)
	40014: miniauth.ErrInvalidCredential, // invalid access_token (WeChat's code)
	42001: miniauth.ErrInvalidCredential, // access_token expired (WeChat's code)
}

// APIError is an error reply from QQ: a non-zero errcode. It matches, with
// [errors.Is], the shared sentinel of its errcode (the package
// documentation has the table); other codes match none, and Msg says what
// QQ objected to.
type APIError struct {
	// Op is the API that failed: "code2session" or "getToken".
	Op string
	// Code is QQ's errcode.
	Code int
	// Msg is QQ's errmsg, cleaned of control characters, secrets and
	// excess length.
	Msg string
}

// Error returns text like "qqauth: code2session: errcode 40029: invalid code".
func (e *APIError) Error() string {
	return engine.APIErrorText("qqauth", e.Op, "errcode", e.Code, e.Msg)
}

// Is reports whether target is the sentinel of e's errcode.
func (e *APIError) Is(target error) bool {
	return engine.IsSentinel(codeSentinels, e.Code, target)
}

// StatusError is an HTTP reply from QQ with a status other than 200. A 5xx
// is retried before it reaches the caller. It matches
// [miniauth.ErrBadResponse].
type StatusError struct {
	// Op is the API that failed.
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
}

// Error returns text like "qqauth: code2session: http status 502".
func (e *StatusError) Error() string {
	return engine.StatusText("qqauth", e.Op, e.StatusCode)
}

// Is makes a StatusError match [miniauth.ErrBadResponse].
func (e *StatusError) Is(target error) bool { return target == miniauth.ErrBadResponse }
