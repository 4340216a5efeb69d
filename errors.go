package miniauth

import "errors"

// Sentinel errors, matched with [errors.Is]. Every platform maps the codes
// its API documents to these, so that code written against [Client]
// branches the same way on every platform; a platform's typed error (such as
// wxauth.APIError) keeps its own code and message. Package wxauth's
// sentinels of the same names are these values.
var (
	// ErrInvalidCode means the login code is unknown, expired or malformed
	// (WeChat 40029). It also matches a code refused before any request
	// (empty, too long, not printable ASCII). The client logs in again.
	ErrInvalidCode = errors.New("miniauth: invalid code")
	// ErrCodeUsed means the login code was already exchanged (WeChat 40163).
	ErrCodeUsed = errors.New("miniauth: code already used")
	// ErrRateLimited means too many calls for this user (WeChat 45011).
	ErrRateLimited = errors.New("miniauth: rate limited")
	// ErrSystemBusy means the platform is busy (WeChat -1). It is retried
	// before it reaches the caller.
	ErrSystemBusy = errors.New("miniauth: platform system busy")
	// ErrInvalidCredential means the app's credentials are wrong: a wrong
	// appid or secret, or a bad or expired access token. The server is
	// misconfigured; the end user can do nothing about it.
	ErrInvalidCredential = errors.New("miniauth: invalid app credential")
	// ErrInvalidPhoneCode means the platform refused the phone-number
	// button's code, or an Alipay phone response that does not verify: the
	// client asks the user to press the button again. It never matches
	// [ErrInvalidCode] or [ErrInvalidCredential].
	ErrInvalidPhoneCode = errors.New("miniauth: invalid phone code")
	// ErrNotAllowed means the platform refuses this app or this server for
	// a reason only an operator can fix (IP whitelist, frozen secret, API
	// not authorized, an administrator's confirmation needed). Retrying does
	// not help.
	ErrNotAllowed = errors.New("miniauth: platform refuses this app or server")
	// ErrQuotaExceeded means the app's quota of calls to an API is spent
	// (WeChat 45009).
	ErrQuotaExceeded = errors.New("miniauth: api quota exceeded")
	// ErrWatermark means decrypted data was made for another app (its
	// watermark or trailer names another appid, or none).
	ErrWatermark = errors.New("miniauth: data belongs to another app")
	// ErrBadResponse means the platform's reply could not be used: not
	// JSON, cut short, over the size limit, badly signed, or missing a field
	// it must have.
	ErrBadResponse = errors.New("miniauth: malformed reply from platform")
	// ErrHighRisk means the platform's risk control blocked this user
	// (WeChat 40226). The client cannot log in; retrying does not help.
	ErrHighRisk = errors.New("miniauth: user blocked as high risk")
	// ErrSessionKeyExpired means the platform no longer accepts the user's
	// session key (WeChat 87009, 87007): the user logged in again and the key
	// rotated. The client logs in anew.
	ErrSessionKeyExpired = errors.New("miniauth: session key invalid or expired")
	// ErrRequestRejected means the platform could not use the request
	// itself (WeChat 40097, and the API security mode's signature and
	// encryption errors). No retry helps; the typed error says what the
	// platform objected to, for an operator or a bug report.
	ErrRequestRejected = errors.New("miniauth: platform rejected the request")
	// ErrUnknownApp means no client serves the requested app: an appid that
	// [Apps] does not know, none where several apps are served, or one
	// that several platforms serve without a platform to pick one.
	ErrUnknownApp = errors.New("miniauth: unknown app")
)
