package session

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Machine codes in the "error" field of the JSON bodies that
// [Manager.Middleware], [LoginHandler], [PhoneHandler] and [LogoutHandler]
// answer with (see also [CodeCrossOrigin] and [CodeSessionKeyExpired]). Clients branch on
// these; the "message" beside them is for people.
const (
	// CodeInvalidToken (401): the token is missing, malformed, unknown or revoked.
	CodeInvalidToken = "invalid_token"
	// CodeExpiredToken (401): the token has expired.
	CodeExpiredToken = "expired_token"
	// CodeStoreUnavailable (503): sessions cannot be checked or kept right
	// now, or (from [LoginHandler] and [PhoneHandler]) a dependency of the
	// login such as the account database is down; keep the token, and the
	// codes of the login, which were not spent, and retry later.
	CodeStoreUnavailable = "store_unavailable"
	// CodeCodeSpent (503): the service failed (a store or another
	// dependency of the login went down) after WeChat had taken the
	// request's codes, which work once: the client calls wx.login again for
	// a fresh code and, when it sent a phone code, asks for the phone number
	// again (another press of the button), then retries later. Contrast
	// [CodeStoreUnavailable], whose codes were not spent.
	CodeCodeSpent = "code_spent"
	// CodeServerError (500): the server is misconfigured or failed.
	CodeServerError = "server_error"

	// CodeMethodNotAllowed (405): the login, phone and logout endpoints take
	// POST only.
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeRequestTooLarge (413): the request body is over 64 KiB.
	CodeRequestTooLarge = "request_too_large"
	// CodeInvalidRequest (400): the request body is not the expected JSON
	// object, or a field of it has the wrong form.
	CodeInvalidRequest = "invalid_request"
	// CodeUnknownApp (400): the login names an app this server does not
	// serve, names none where the server serves several, or names an appid
	// that several platforms serve without a platform. Nothing was sent
	// upstream: the code is unspent.
	CodeUnknownApp = "unknown_app"
	// CodeNotSupported (400): the request needs what the app's platform does
	// not have (a phoneCode on a platform without phone codes, rawData
	// signatures or encryptedData where the platform sends none). Nothing
	// was sent upstream.
	CodeNotSupported = "not_supported"
	// CodeMissingCode (400): the login body has no code.
	CodeMissingCode = "missing_code"
	// CodeInvalidCode (401): WeChat does not know the code, or it expired.
	CodeInvalidCode = "invalid_code"
	// CodeCodeUsed (401): the code was already exchanged.
	CodeCodeUsed = "code_used"
	// CodeInvalidPhoneCode (400): WeChat refused the phone code (unknown,
	// expired, used, made for another app or another user); the client asks
	// for the phone number again. No token is issued.
	CodeInvalidPhoneCode = "invalid_phone_code"
	// CodeRateLimited (429): WeChat refused: too many logins for this user.
	CodeRateLimited = "rate_limited"
	// CodeHighRisk (403): WeChat blocked this user as high risk.
	CodeHighRisk = "high_risk_user"
	// CodeWeChatUnavailable (502): WeChat was busy, unreachable, or answered
	// something unusable.
	CodeWeChatUnavailable = "wechat_unavailable"
	// CodeQuotaExceeded (503): the app's daily quota of a WeChat API is spent
	// (errcode 45009); it resets at midnight, Beijing time.
	CodeQuotaExceeded = "quota_exceeded"
	// CodeInvalidSignature (401): rawData does not match its signature.
	CodeInvalidSignature = "invalid_signature"
	// CodeDecryptFailed (400): encryptedData and iv could not be decrypted.
	CodeDecryptFailed = "decrypt_failed"
	// CodeWatermarkMismatch (401): encryptedData was made for another app.
	CodeWatermarkMismatch = "watermark_mismatch"
	// CodeIdentityMismatch (401): encryptedData names another user.
	CodeIdentityMismatch = "identity_mismatch"
	// CodeLoginRefused (403): the application refused the user: its
	// [WithOnLogin] hook refused the login, or its [WithRecordCheck] the
	// request (a banned user).
	CodeLoginRefused = "login_refused"
	// CodeNotRegistered (403): the session has no subject (an openid the
	// application has not bound to a user yet) and the handler needs a
	// registered user ([Manager.RequireSubject]); the client asks the user
	// to register (the phone-number button).
	CodeNotRegistered = "not_registered"
	// CodeCanceled (499): the client went away before the answer.
	CodeCanceled = "canceled"
)

// StatusClientClosedRequest is the status recorded when the client cancelled
// its request (nginx's 499); the client never sees it.
const StatusClientClosedRequest = 499

// HTTPError is a refused request as [Manager.Middleware] and the handlers of
// this package answer it: a status, a machine code (the Code* constants) and a message
// that is safe to show the client. Err is the cause, for logs: it is never
// written to the client.
//
// A [WithOnLogin] hook returns an *HTTPError to refuse a login with its own
// status and code.
type HTTPError struct {
	Status  int
	Code    string
	Message string
	Err     error
}

// Error returns text like "session: 401 invalid_code: <message>: <cause>".
func (e *HTTPError) Error() string {
	s := "session: " + strconv.Itoa(e.Status) + " " + e.Code + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// ErrorHandler answers a refused request. See [WithErrorHandler].
type ErrorHandler func(w http.ResponseWriter, r *http.Request, e *HTTPError)

// errorBody is the JSON body of a refused request.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// WriteError is the default [ErrorHandler]: it answers e.Status with the JSON
// body {"error": e.Code, "message": e.Message}. It never writes e.Err.
func WriteError(w http.ResponseWriter, _ *http.Request, e *HTTPError) {
	b, _ := json.Marshal(errorBody{Error: e.Code, Message: e.Message}) // two strings: cannot fail
	writeJSONBody(w, e.Status, b)
}

// writeJSONBody answers status with the JSON body b. Answers may carry a
// token: they must not be cached.
func writeJSONBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
