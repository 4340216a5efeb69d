package wxauth

import (
	"errors"
	"strings"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Sentinel errors, matched with [errors.Is]. An [*APIError] matches the
// sentinel of its errcode. Those that every platform shares are the values
// of package miniauth (wxauth.ErrInvalidCode is miniauth.ErrInvalidCode); errors from this package that do not come from
// WeChat wrap one of these too where one fits.
var (
	// ErrInvalidCode is errcode 40029: the code is unknown or expired. It also
	// matches a code refused before any request (empty, too long, not
	// printable ASCII).
	ErrInvalidCode = miniauth.ErrInvalidCode
	// ErrCodeUsed is errcode 40163: the code was already exchanged.
	ErrCodeUsed = miniauth.ErrCodeUsed
	// ErrRateLimited is errcode 45011: too many calls for this user.
	ErrRateLimited = miniauth.ErrRateLimited
	// ErrHighRisk is errcode 40226: WeChat blocked this user as high risk.
	ErrHighRisk = miniauth.ErrHighRisk
	// ErrSystemBusy is errcode -1: WeChat is busy. It is retried before it
	// reaches the caller.
	ErrSystemBusy = miniauth.ErrSystemBusy
	// ErrInvalidCredential is errcode 40001, 40013, 40125, 40014, 42001 or
	// 41002: a wrong appid or secret, or a bad or expired access_token. The
	// server is misconfigured; the end user can do nothing about it. On
	// getuserphonenumber 40013 is [ErrInvalidPhoneCode] instead.
	ErrInvalidCredential = miniauth.ErrInvalidCredential
	// ErrSessionKeyExpired is errcode 87009 (the session_key signature is
	// invalid, usually because the user logged in again and the key rotated)
	// or 87007 (resetusersessionkey: the session_key is no longer valid).
	ErrSessionKeyExpired = miniauth.ErrSessionKeyExpired
	// ErrNotAllowed means WeChat refuses this app or this server for a
	// reason only an operator can fix: 40164 (the server's IP is not in the
	// app's whitelist; the errmsg names the IP), 40243 (the AppSecret is
	// frozen), 41004 (secret missing), 48001 (API not authorized for this
	// app), 50004 and 50007 (API forbidden, account frozen), 89503, 89506 and
	// 89507 (an administrator must confirm the call). Retrying does not help;
	// the [*APIError]'s Msg says what to fix.
	ErrNotAllowed = miniauth.ErrNotAllowed
	// ErrQuotaExceeded is errcode 45009: the app's daily quota of calls to
	// this API is spent. It resets at midnight (Beijing time) or by an
	// operator's clear_quota.
	ErrQuotaExceeded = miniauth.ErrQuotaExceeded
	// ErrInvalidPhoneCode means WeChat refused the code of the phone-number
	// button on getuserphonenumber: unknown, expired or used (40029), made
	// for another appid (40013), or not the phone code of the openid sent
	// with [ForOpenID] (40003). A code refused before any request (empty,
	// too long, not printable ASCII) matches it too. It never matches
	// [ErrInvalidCode] or [ErrInvalidCredential], so that a caller can tell a
	// bad phone code from a bad login code: the client presses the button
	// again.
	ErrInvalidPhoneCode = miniauth.ErrInvalidPhoneCode
	// ErrRequestRejected means WeChat could not use the request itself:
	// 40097 (invalid arguments) or one of the API security mode's refusals:
	// 40230 to 40237 and 40240 (a Wechatmp-* header missing or invalid,
	// 40234 a signature that does not verify, 40235 a body that does not
	// decrypt, 40240 a stale timestamp) and 934011 (no encrypted body: the
	// console demands the mode and [WithAPISecurity] is not given). No retry
	// helps; Msg and RID say what WeChat objected to, for an operator or a
	// bug report.
	ErrRequestRejected = miniauth.ErrRequestRejected
	// ErrWatermark means decrypted data carries another app's appid (or none):
	// it was not encrypted for this mini-program.
	ErrWatermark = miniauth.ErrWatermark
	// ErrInvalidOpenID means an openid was refused before any request: empty,
	// too long or not printable ASCII.
	ErrInvalidOpenID = errors.New("wxauth: invalid openid")
	// ErrBadResponse means WeChat's reply could not be used: not JSON, cut
	// short, over the size limit, or missing a field it must have.
	ErrBadResponse = miniauth.ErrBadResponse
	// ErrUnknownApp is [miniauth.ErrUnknownApp]: no client serves the
	// requested app (a [Component] asked for an app that has not
	// authorized it, or an [App] asked for another appid).
	ErrUnknownApp = miniauth.ErrUnknownApp
)

// codeSentinels maps WeChat errcodes to the sentinel they match.
var codeSentinels = map[int]error{
	-1:     ErrSystemBusy,
	40029:  ErrInvalidCode,
	40163:  ErrCodeUsed,
	45011:  ErrRateLimited,
	40226:  ErrHighRisk,
	40001:  ErrInvalidCredential, // invalid credential / access_token
	40013:  ErrInvalidCredential, // invalid appid
	40125:  ErrInvalidCredential, // invalid appsecret
	40014:  ErrInvalidCredential, // invalid access_token
	42001:  ErrInvalidCredential, // access_token expired
	41002:  ErrInvalidCredential, // appid missing
	87009:  ErrSessionKeyExpired,
	87007:  ErrSessionKeyExpired, // resetusersessionkey: session_key no longer valid
	45009:  ErrQuotaExceeded,
	40164:  ErrNotAllowed,      // invalid ip, not in whitelist
	40243:  ErrNotAllowed,      // AppSecret frozen
	41004:  ErrNotAllowed,      // appsecret missing
	48001:  ErrNotAllowed,      // api unauthorized
	50004:  ErrNotAllowed,      // api forbidden for this account
	50007:  ErrNotAllowed,      // account frozen
	89503:  ErrNotAllowed,      // the call needs an administrator's confirmation
	89506:  ErrNotAllowed,      // the administrator refused; wait before asking again
	89507:  ErrNotAllowed,      // the administrator refused; wait before asking again
	40097:  ErrRequestRejected, // invalid args
	40234:  ErrRequestRejected, // API security mode: invalid signature
	40235:  ErrRequestRejected, // API security mode: invalid encrypt
	934011: ErrRequestRejected, // API security mode: request_body is required
	// The API security mode's errcodes, from its guide:
	// https://developers.weixin.qq.com/miniprogram/dev/server/getting_started/api_signature ("错误码").
	40230: ErrRequestRejected, // Wechatmp-Serial missing
	40231: ErrRequestRejected, // Wechatmp-TimeStamp missing
	40232: ErrRequestRejected, // Wechatmp-Signature missing
	40233: ErrRequestRejected, // Wechatmp-Appid missing
	40236: ErrRequestRejected, // Wechatmp-Appid invalid
	40237: ErrRequestRejected, // Wechatmp-Appid does not match the access token
	40238: ErrNotAllowed,      // the console has no symmetric key set
	40239: ErrNotAllowed,      // the console has no public key set
	40240: ErrRequestRejected, // Wechatmp-TimeStamp expired
}

// phoneCodeSentinels overrides codeSentinels for getuserphonenumber, where
// the code in question is the phone-number button's: 40013 there means the
// code was made for another appid, not that this app's appid is wrong.
// Errcodes from https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
var phoneCodeSentinels = map[int]error{
	40029: ErrInvalidPhoneCode, // invalid code
	40163: ErrInvalidPhoneCode, // code been used
	40013: ErrInvalidPhoneCode, // code of another appid
	40003: ErrInvalidPhoneCode, // the code is not the phone code of the openid sent
}

// opGetPhoneNumber is the Op of errors from [App.GetPhoneNumber].
const opGetPhoneNumber = "getuserphonenumber"

// sentinelFor returns the sentinel that errcode code of API op matches.
func sentinelFor(op string, code int) (error, bool) {
	if op == opGetPhoneNumber {
		if s, ok := phoneCodeSentinels[code]; ok {
			return s, true
		}
	}
	s, ok := codeSentinels[code]
	return s, ok
}

// isTokenError reports whether err is WeChat refusing the access_token a call
// carried (40001 invalid, 40014 not an access_token, 42001 expired): the call
// may succeed with a new token.
func isTokenError(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case 40001, 40014, 42001:
		return true
	}
	return false
}

// APIError is an error reply from WeChat: a non-zero errcode.
//
// Use [errors.Is] with the sentinels ([ErrInvalidCode], ...) to branch on the
// codes that matter, or [errors.As] to read Code. The package documentation
// has the table of errcodes, what each matches, and what to do. Codes not in
// it match no sentinel: their Msg and RID say what WeChat objected to.
type APIError struct {
	// Op is the API that failed, such as "code2session".
	Op string
	// Code is WeChat's errcode.
	Code int
	// Msg is WeChat's errmsg without its trailing request id.
	Msg string
	// RID is the request id WeChat appends to errmsg ("rid: ..."), which
	// WeChat's support asks for.
	RID string
}

// newAPIError builds an APIError from a reply, splitting off the rid,
// then cleaning both parts with s (secrets removed before the text is
// cut: cutting first could split a secret and keep half of it).
func newAPIError(op string, code int, msg string, s engine.Scrubber) *APIError {
	e := &APIError{Op: op, Code: code}
	if i := strings.LastIndex(msg, "rid:"); i >= 0 {
		e.RID = strings.TrimSpace(msg[i+len("rid:"):])
		msg = strings.TrimRight(msg[:i], " ,;")
	}
	e.Msg = s.Clean(msg)
	e.RID = s.Clean(e.RID)
	return e
}

// Error returns text like "wxauth: code2session: errcode 40029: invalid code (rid: 1a2b)".
func (e *APIError) Error() string {
	text := engine.APIErrorText("wxauth", e.Op, "errcode", e.Code, e.Msg)
	if e.RID != "" {
		text += " (rid: " + e.RID + ")"
	}
	return text
}

// Is reports whether target is the sentinel for e's errcode (on e's API:
// see [ErrInvalidPhoneCode]).
func (e *APIError) Is(target error) bool {
	s, ok := sentinelFor(e.Op, e.Code)
	return ok && s == target
}

// StatusError is an HTTP reply from WeChat with a status other than 200.
// A 5xx is retried before it reaches the caller.
type StatusError struct {
	// Op is the API that failed, such as "code2session".
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
}

// Error returns text like "wxauth: code2session: http status 502".
func (e *StatusError) Error() string {
	return engine.StatusText("wxauth", e.Op, e.StatusCode)
}

// Is makes a StatusError match [ErrBadResponse].
func (e *StatusError) Is(target error) bool { return target == ErrBadResponse }
