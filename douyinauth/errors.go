package douyinauth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Sentinel errors, matched with [errors.Is]. An [*APIError] matches the
// sentinel of its code (the package documentation has the table). Those that
// every platform shares are the values of package miniauth
// (douyinauth.ErrInvalidCode is miniauth.ErrInvalidCode).
var (
	// ErrInvalidCode is err_no 40018 (bad code) or 40019 (bad
	// anonymous_code) of jscode2session: the code is unknown, expired or
	// already used (Douyin does not tell these apart). It also matches a code
	// refused before any request (empty, too long, not printable ASCII).
	ErrInvalidCode = miniauth.ErrInvalidCode
	// ErrRateLimited is 28003018 (request rate too high) or the
	// client_token's 10020 (over 500 calls in 5 minutes).
	ErrRateLimited = miniauth.ErrRateLimited
	// ErrSystemBusy is err_no -1 of jscode2session, or 28001005/28001006 of
	// open.douyin.com: Douyin is busy. It is retried before it reaches the
	// caller.
	ErrSystemBusy = miniauth.ErrSystemBusy
	// ErrInvalidCredential is a wrong appid (40015) or secret (40017) on
	// jscode2session, an unknown client_key (10003) or a wrong client_key or
	// client_secret (10013) on client_token, or an expired client_token
	// (28001008): the server is misconfigured, or the token is renewed.
	ErrInvalidCredential = miniauth.ErrInvalidCredential
	// ErrInvalidPhoneCode means Douyin refused the phone-number button's
	// code on get_phonenumber_info (28005187: expired or used; 28001007: the
	// code, the call's only parameter, is not valid), or a code refused
	// before any request. It never matches [ErrInvalidCode].
	ErrInvalidPhoneCode = miniauth.ErrInvalidPhoneCode
	// ErrNotAllowed means Douyin refuses the app for a reason an operator
	// must fix: 28001014 (the app has no capability), 28001016 (the app is
	// banned or offline), 28001018 (the app lacks this capability), 28001019
	// (the capability is banned).
	ErrNotAllowed = miniauth.ErrNotAllowed
	// ErrQuotaExceeded is 28003017: the app's quota of the API is spent.
	ErrQuotaExceeded = miniauth.ErrQuotaExceeded
	// ErrWatermark means decrypted data carries another app's appid (or,
	// for user data, none).
	ErrWatermark = miniauth.ErrWatermark
	// ErrBadResponse means Douyin's reply could not be used: not JSON, cut
	// short, over the size limit, an HTTP status other than 200, missing a
	// field it must have, or a phone number that does not decrypt with the
	// private key.
	ErrBadResponse = miniauth.ErrBadResponse
	// ErrUnknownApp is [miniauth.ErrUnknownApp]: an [App] asked for another
	// appid.
	ErrUnknownApp = miniauth.ErrUnknownApp
	// ErrNoPrivateKey means [App.GetPhoneNumber] was called on an App made
	// without [WithPrivateKey]: Douyin encrypts the phone number with the
	// app's public key, so the App cannot read it. The code is not spent.
	ErrNoPrivateKey = errors.New("douyinauth: no private key configured (WithPrivateKey)")
)

// Ops: the APIs of this package, as [APIError.Op] names them.
const (
	opCode2Session = "jscode2session"
	opClientToken  = "client_token"
	opStableToken  = "stable_client_token"
	opPhone        = "get_phonenumber_info"
)

// commonSentinels maps the status codes of open.douyin.com's new-generation
// APIs to sentinels, for every API of that host.
// https://developer.open-douyin.com/docs/resource/zh-cn/dop/develop/openapi/status-code
var commonSentinels = map[int64]error{
	28001005: ErrSystemBusy,        // 系统繁忙,此时请开发者稍候再试
	28001006: ErrSystemBusy,        // 网络调用错误,请重试
	28001008: ErrInvalidCredential, // access_token过期,请刷新或重新授权
	28001014: ErrNotAllowed,        // 应用未授权任何能力
	28001016: ErrNotAllowed,        // 当前应用已被封禁或下线
	28001018: ErrNotAllowed,        // 应用未获得该能力
	28001019: ErrNotAllowed,        // 当前能力已被封禁或下线
	28003017: ErrQuotaExceeded,     // quota 已用完
	28003018: ErrRateLimited,       // 请求频率过高
}

// opSentinels maps each API's own codes to sentinels; they win over
// commonSentinels.
var opSentinels = map[string]map[int64]error{
	// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/basic-abilities/log-in/code-2-session
	// names the envelope but tabulates no codes; these are the numbering of
	// the v1 page (mirrored at https://w3cschool.cn/microgame/microgame-k97136rd.html).
	opCode2Session: {
		-1:    ErrSystemBusy,        // 系统错误
		40015: ErrInvalidCredential, // appid 错误
		40017: ErrInvalidCredential, // secret 错误
		40018: ErrInvalidCode,       // code 错误
		40019: ErrInvalidCode,       // acode (anonymous_code) 错误
	},
	// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-client_token
	// and https://developer.open-douyin.com/docs/resource/zh-CN/local-life/develop/preparation/client_token (10020).
	opClientToken: {
		10003: ErrInvalidCredential, // client_key 不存在
		10013: ErrInvalidCredential, // client_key 或者 client_secret 报错
		10020: ErrRateLimited,       // 5 分钟内超过 500 次接口调用
	},
	// https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/account-permission/generate-stable-client-token
	opStableToken: {
		10003: ErrInvalidCredential,
		10013: ErrInvalidCredential,
	},
	// 28005187 (the phone code expired or was used) is read from an SDK's
	// documentation only; 28001007 (参数不合法) names the code, the only
	// parameter of the call's body (the token travels in a header).
	opPhone: {
		28005187: ErrInvalidPhoneCode,
		28001007: ErrInvalidPhoneCode,
	},
}

// sentinelFor returns the sentinel that code of API op matches.
func sentinelFor(op string, code int64) (error, bool) {
	if s, ok := opSentinels[op][code]; ok {
		return s, true
	}
	if op == opCode2Session {
		return nil, false // developer.toutiao.com: its own numbering
	}
	s, ok := commonSentinels[code]
	return s, ok
}

// retryable reports whether code of op says "busy, try again".
func retryable(op string, code int64) bool {
	s, _ := sentinelFor(op, code)
	return s == ErrSystemBusy
}

// isTokenError reports whether err is Douyin refusing the client_token a
// call carried (28001008): the call may succeed with a new token.
func isTokenError(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Op == opPhone && ae.Code == 28001008
}

// maxMsgLen caps the message kept from a reply, so that a hostile or broken
// server cannot flood logs through error strings.
const maxMsgLen = engine.MaxMsgLen

// APIError is an error reply from Douyin: a non-zero err_no
// (developer.toutiao.com's and open.douyin.com's api/apps envelopes) or
// error_code (open.douyin.com's oauth envelope).
//
// Use [errors.Is] with the sentinels ([ErrInvalidCode], ...) to branch on the
// codes that matter, or [errors.As] to read Code. Codes not in the package
// documentation's table match no sentinel: Msg and LogID say what Douyin
// objected to.
type APIError struct {
	// Op is the API that failed, such as "jscode2session".
	Op string
	// Code is Douyin's err_no or error_code.
	Code int64
	// Msg is Douyin's err_tips, err_msg or description.
	Msg string
	// LogID is the log id Douyin sent with the reply, which its support
	// asks for.
	LogID string
}

// Error returns text like "douyinauth: jscode2session: err_no 40018: bad code (log_id: 2024...)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("douyinauth: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	name := "err_no"
	if e.Op == opClientToken || e.Op == opStableToken {
		name = "error_code"
	}
	fmt.Fprintf(&b, "%s %d", name, e.Code)
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.LogID != "" {
		b.WriteString(" (log_id: ")
		b.WriteString(e.LogID)
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's code on e's API.
func (e *APIError) Is(target error) bool {
	s, ok := sentinelFor(e.Op, e.Code)
	return ok && s == target
}
