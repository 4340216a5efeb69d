package baiduauth

import (
	"strconv"
	"strings"

	"github.com/wxmp/miniauth"
)

// Sentinel errors, matched with [errors.Is]: the shared ones of package
// miniauth. An [*APIError] matches the sentinel of its error code.
var (
	// ErrInvalidCode is [miniauth.ErrInvalidCode]: error invalid_grant
	// (the code is unknown, expired or already used: Baidu's OAuth tells
	// none of these apart), or a code refused before any request.
	ErrInvalidCode = miniauth.ErrInvalidCode
	// ErrInvalidCredential is [miniauth.ErrInvalidCredential]: error
	// invalid_client (the AppKey or the secret is wrong).
	ErrInvalidCredential = miniauth.ErrInvalidCredential
	// ErrNotAllowed is [miniauth.ErrNotAllowed]: error unauthorized_client
	// (the app may not use this grant).
	ErrNotAllowed = miniauth.ErrNotAllowed
	// ErrWatermark is [miniauth.ErrWatermark]: decrypted data whose
	// trailer is not this app's AppKey.
	ErrWatermark = miniauth.ErrWatermark
	// ErrBadResponse is [miniauth.ErrBadResponse]: a reply that is not
	// JSON, over 1 MiB, without an openid or a 24-byte session_key, or with
	// an HTTP status other than 200 and no error body (see
	// [App.Code2Session]).
	ErrBadResponse = miniauth.ErrBadResponse
	// ErrUnknownApp is [miniauth.ErrUnknownApp].
	ErrUnknownApp = miniauth.ErrUnknownApp
)

// errorSentinels maps the OAuth error codes of Baidu's OAuth 2.0 (its
// 错误码列表, as quoted at
// https://a.setujun.com/shows/27/3064.html and
// http://data.winndoo.cn/seoSchool/detail26270.html; the jscode2sessionkey
// page sends its errors to that list) to the sentinels.
var errorSentinels = map[string]error{
	"invalid_grant":       ErrInvalidCode,       // the code is invalid, expired or used
	"invalid_client":      ErrInvalidCredential, // unknown client_id, or a wrong secret
	"unauthorized_client": ErrNotAllowed,        // the app may not use this grant type
}

// APIError is an error reply from Baidu: {errno?, error, error_description}.
//
// Baidu's OAuth endpoints answer with error a code such as
// "invalid_grant"; the jscode2sessionkey page also shows an integer errno
// with error a short text ({"errno":10010100,"error":"parameter is
// invalid",...}). Both are kept; [errors.Is] matches by Code.
type APIError struct {
	// Op is the API that failed: "jscode2sessionkey".
	Op string
	// Errno is the integer errno, or 0 when the reply has none.
	Errno int64
	// Code is the reply's error, such as "invalid_grant".
	Code string
	// Description is the reply's error_description, with the code it may
	// echo ("Invalid authorization code: ...") removed.
	Description string
}

// Error returns text like "baiduauth: jscode2sessionkey: invalid_grant:
// Invalid authorization code: REDACTED".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("baiduauth: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Errno != 0 {
		b.WriteString("errno ")
		b.WriteString(strconv.FormatInt(e.Errno, 10))
		b.WriteString(": ")
	}
	b.WriteString(e.Code)
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's error code.
func (e *APIError) Is(target error) bool {
	s, ok := errorSentinels[e.Code]
	return ok && s == target
}
