package alipayauth

import (
	"errors"
	"strings"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Sentinel errors, matched with [errors.Is]. The shared ones are package
// miniauth's values; an [*APIError] matches the sentinel of its code and
// sub_code (see the package documentation's table).
var (
	// ErrInvalidCode is [miniauth.ErrInvalidCode]: sub_code
	// isv.code-invalid (an authCode unknown, expired, already used, of
	// another app or of the wrong scope), or a code refused before any
	// request. Alipay does not tell a used code from an unknown one, so
	// [miniauth.ErrCodeUsed] never matches.
	ErrInvalidCode = miniauth.ErrInvalidCode
	// ErrSystemBusy is [miniauth.ErrSystemBusy]: gateway code 20000
	// (isp.unknow-error, aop.unknow-error: "服务暂不可用", try again later). It
	// is retried before it reaches the caller.
	ErrSystemBusy = miniauth.ErrSystemBusy
	// ErrInvalidCredential is [miniauth.ErrInvalidCredential]: Alipay
	// refuses the request's signature or app_id (isv.invalid-signature,
	// isv.invalid-app-id, isv.missing-signature-key, isv.invalid-signature-type):
	// the app private key, the appid or the key uploaded to the console is
	// wrong.
	ErrInvalidCredential = miniauth.ErrInvalidCredential
	// ErrNotAllowed is [miniauth.ErrNotAllowed]: gateway code 40006
	// (insufficient permissions: the app has not been granted the API or
	// the phone-number capability), or a phone response refused for
	// isv.invalid-auth-relations.
	ErrNotAllowed = miniauth.ErrNotAllowed
	// ErrInvalidPhoneCode is [miniauth.ErrInvalidPhoneCode]: a
	// my.getPhoneNumber response that does not verify, does not decrypt,
	// or carries an error; the mini-program asks the user again.
	ErrInvalidPhoneCode = miniauth.ErrInvalidPhoneCode
	// ErrBadResponse is [miniauth.ErrBadResponse]: the gateway's reply is
	// not JSON, over 1 MiB, unsigned or badly signed, misses its user id,
	// or came with an HTTP status other than 200.
	ErrBadResponse = miniauth.ErrBadResponse
	// ErrUnknownApp is [miniauth.ErrUnknownApp].
	ErrUnknownApp = miniauth.ErrUnknownApp
	// ErrNoAESKey means [App.DecryptPhone] was called on an App made
	// without [WithAESKey]: a server misconfiguration, not the user's
	// fault.
	ErrNoAESKey = errors.New("alipayauth: no AES key configured (WithAESKey)")
)

// Ops of the errors this package returns.
const (
	opOauthToken = "alipay.system.oauth.token"
	opPhone      = "getPhoneNumber"
)

// Gateway codes and sub_codes, from the gateway's table of common codes
// (Alipay's 公共错误码, as mirrored at
// https://open.alitrip.com/docs/doc.htm?articleId=105806&docType=1&treeId=262).
// isv.code-invalid for a refused authCode rests on developers' reports
// (citing https://opendocs.alipay.com/support/01rg6z) and Alipay's SDKs.
const (
	codeSuccess     = "10000"
	codeUnavailable = "20000"
	codeNoPerm      = "40006"
)

// subCodeSentinels maps sub_codes to the sentinel they match.
var subCodeSentinels = map[string]error{
	"isv.code-invalid":           ErrInvalidCode,
	"isv.invalid-signature":      ErrInvalidCredential,
	"isv.invalid-app-id":         ErrInvalidCredential,
	"isv.missing-signature-key":  ErrInvalidCredential,
	"isv.invalid-signature-type": ErrInvalidCredential,
	"isp.unknow-error":           ErrSystemBusy,
	"aop.unknow-error":           ErrSystemBusy,
}

// sentinelFor returns the sentinel an error of op with code and subCode
// matches, or nil.
func sentinelFor(op, code, subCode string) error {
	if op == opPhone {
		if code == codeNoPerm || subCode == "isv.invalid-auth-relations" {
			return ErrNotAllowed
		}
		return ErrInvalidPhoneCode
	}
	if s, ok := subCodeSentinels[subCode]; ok {
		return s
	}
	switch code {
	case codeUnavailable:
		return ErrSystemBusy
	case codeNoPerm:
		return ErrNotAllowed
	}
	return nil
}

// APIError is an error reply from Alipay: an error_response (or a response
// node whose code is not 10000) on the gateway, or the code of a decrypted
// my.getPhoneNumber response.
//
// Use [errors.Is] with the sentinels to branch on the codes that matter, or
// [errors.As] to read Code and SubCode. Codes outside the package's table
// match no sentinel; SubMsg says what Alipay objected to.
type APIError struct {
	// Op is the API that failed: "alipay.system.oauth.token" or
	// "getPhoneNumber".
	Op string
	// Code is the gateway's code, such as "40002".
	Code string
	// Msg is the gateway's msg, such as "Invalid Arguments".
	Msg string
	// SubCode is the detailed code, such as "isv.code-invalid".
	SubCode string
	// SubMsg is the detailed message, such as "授权码code无效".
	SubMsg string
}

// newAPIError builds an APIError from a reply's fields, each passed
// through scrub (which removes the call's secrets) and cleaned for logs.
func newAPIError(op string, scrub func(string) string, code, msg, subCode, subMsg string) *APIError {
	clean := func(s string) string { return engine.CleanMsg(scrub(s)) }
	return &APIError{Op: op, Code: clean(code), Msg: clean(msg), SubCode: clean(subCode), SubMsg: clean(subMsg)}
}

// Error returns text like "alipayauth: alipay.system.oauth.token: code
// 40002 (Invalid Arguments): isv.code-invalid: 授权码code无效".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("alipayauth: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString("code ")
	b.WriteString(e.Code)
	if e.Msg != "" {
		b.WriteString(" (")
		b.WriteString(e.Msg)
		b.WriteString(")")
	}
	if e.SubCode != "" {
		b.WriteString(": ")
		b.WriteString(e.SubCode)
	}
	if e.SubMsg != "" {
		b.WriteString(": ")
		b.WriteString(e.SubMsg)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's code and sub_code.
func (e *APIError) Is(target error) bool {
	s := sentinelFor(e.Op, e.Code, e.SubCode)
	return s != nil && s == target
}
