package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/wxauth"
)

// MaxLoginBodyLen is the largest login request body [LoginHandler] reads:
// 64 KiB. Larger bodies are answered 413.
const MaxLoginBodyLen = 64 << 10

// ErrLoginRefused is the error a [WithOnLogin] hook returns (or wraps) to
// refuse a login with 403 {"error": "login_refused"}. To answer with another
// status or code, return an [*HTTPError] instead.
var ErrLoginRefused = errors.New("session: login refused")

// LoginInfo is what a [WithOnLogin] hook learns of a login, once WeChat and
// the signature and encrypted data (when sent) have been checked.
type LoginInfo struct {
	// Session is the user's session from code2session. Its SessionKey must
	// stay on the server.
	Session *wxauth.Session
	// RawData is the rawData the client sent, its signature checked; empty
	// when none was sent.
	RawData string
	// UserInfo is the decrypted encryptedData, its watermark checked and its
	// openId and unionId (when present) equal to the session's; nil when
	// none was sent.
	UserInfo *wxauth.UserInfo
	// Phone is the phone number WeChat gave for the phone code the client
	// sent (phoneCode), exchanged for the session's openid; nil when none
	// was sent.
	Phone *wxauth.PhoneNumber
	// Subject is the application's own id of the user. The hook sets it
	// (when it knows or creates the user); the token issued carries it in
	// [Record.Subject]. Left empty, the session belongs to an openid not
	// bound to a user yet. [PhoneHandler] sets it to the session's current
	// subject before it calls the hook.
	Subject string
}

// OnLoginFunc is a hook that [LoginHandler] calls after it has checked a
// login and before it issues a token: the place to map the WeChat identity
// to the application's own user (look it up, create it, bind a phone).
//
// The fields it returns are added to the JSON response; fields named token,
// expiresIn, openid, unionid or userInfo are ignored (the handler's win). To
// refuse the login it returns [ErrLoginRefused] (403 login_refused) or an
// [*HTTPError] (its own status, 400 to 599, and code); any other error is a
// failure of the server: 500 server_error, logged at Error.
type OnLoginFunc func(ctx context.Context, info *LoginInfo) (fields map[string]any, err error)

// A LoginOption configures [LoginHandler].
type LoginOption func(*loginHandler)

// WithOnLogin sets the hook the handler calls for each checked login (see
// [OnLoginFunc]). A nil hook means none.
func WithOnLogin(f OnLoginFunc) LoginOption {
	return func(h *loginHandler) { h.onLogin = f }
}

type loginHandler struct {
	client  wxauth.Client
	m       *Manager
	onLogin OnLoginFunc
	err     error // misconfiguration: every request gets 500
}

// loginRequest is the JSON body of a login.
type loginRequest struct {
	Code          string `json:"code"`
	RawData       string `json:"rawData"`
	Signature     string `json:"signature"`
	EncryptedData string `json:"encryptedData"`
	IV            string `json:"iv"`
}

// reservedFields are the response fields a hook cannot set.
var reservedFields = [...]string{"token", "expiresIn", "openid", "unionid", "userInfo"}

// LoginHandler returns the handler of a mini-program's login request: a POST
// with the JSON body {code, rawData?, signature?, encryptedData?, iv?} made of
// what wx.login (and wx.getUserProfile) returned. It exchanges the code with
// WeChat through client, checks the signature of rawData and decrypts
// encryptedData when they are sent, calls the [WithOnLogin] hook, issues a
// token with m and answers 200 with
//
//	{"token": "...", "expiresIn": 86400, "openid": "...", "unionid": "...", "userInfo": {...}}
//
// (unionid when WeChat sent one, userInfo when encryptedData was sent, and
// the hook's fields). The session_key never leaves the server.
//
// Refusals are JSON {"error": code, "message": text} (see [WithErrorHandler]),
// with a fixed message per code that never repeats WeChat's error text:
//
//	405 method_not_allowed   not a POST
//	413 request_too_large    body over 64 KiB
//	400 invalid_request      not a JSON object of strings; rawData without signature, encryptedData without iv, a code over 256 bytes
//	400 missing_code         no code (WeChat is not called)
//	401 invalid_code         WeChat does not know the code, or it expired
//	401 code_used            the code was already used
//	429 rate_limited         WeChat's per-user rate limit
//	403 high_risk_user       WeChat blocked the user as high risk
//	502 wechat_unavailable   WeChat busy, unreachable, or answering nonsense
//	500 server_error         WeChat refused the appid or secret (logged at Error: fix the configuration)
//	401 invalid_signature    rawData does not match its signature
//	400 decrypt_failed       encryptedData and iv do not decrypt (one code and message whatever the cause)
//	401 watermark_mismatch   encryptedData was made for another mini-program
//	401 identity_mismatch    encryptedData names another openId or unionId than the session
//	403 login_refused        the hook refused
//	503 store_unavailable    the session store is down
//
// CBC has no integrity: a tampered encryptedData can decrypt, with valid
// padding and watermark, into another identity. So an openId or unionId in
// the decrypted data must equal the session's; a unionId that code2session
// did not return is refused too, since it cannot be told from a forged one.
//
// A nil client or Manager, or a Manager whose options failed
// ([Manager.Err]), makes a handler that answers every request 500 and logs
// why at Error.
func LoginHandler(client wxauth.Client, m *Manager, opts ...LoginOption) http.Handler {
	h := &loginHandler{client: client, m: m}
	switch {
	case m == nil:
		h.err = errors.New("session: login handler: nil manager")
		h.m = &Manager{cfg: defaultConfig(), err: h.err}
		h.m.cfg.logger = slog.Default()
	case m.err != nil:
		h.err = m.unusable()
	case client == nil:
		h.err = errors.New("session: login handler: nil wxauth client")
	}
	for _, o := range opts {
		if o != nil {
			o(h)
		}
	}
	return h
}

func (h *loginHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.err != nil {
		h.m.refuse(w, r, "login", serverError(h.err))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.m.refuse(w, r, "login", &HTTPError{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
			Message: "use POST"})
		return
	}
	req, e := readLoginRequest(w, r)
	if e == nil {
		var body []byte
		body, e = h.login(r.Context(), req)
		if e == nil {
			writeJSONBody(w, http.StatusOK, body)
			return
		}
	}
	h.m.refuse(w, r, "login", e)
}

// readLoginRequest reads and checks the body of a login request.
func readLoginRequest(w http.ResponseWriter, r *http.Request) (*loginRequest, *HTTPError) {
	tooLarge := &HTTPError{Status: http.StatusRequestEntityTooLarge, Code: CodeRequestTooLarge,
		Message: "the request body is over 64 KiB"}
	if r.ContentLength > MaxLoginBodyLen {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxLoginBodyLen))
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, tooLarge
		case r.Context().Err() != nil:
			return nil, canceled(err)
		}
		return nil, invalidRequest("the request body could not be read", err)
	}
	var req loginRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, invalidRequest("the body must be a JSON object with string fields code, rawData, signature, encryptedData and iv", nil)
	}
	if err := uniqueKeys(b); err != nil {
		// encoding/json matches keys case-insensitively and keeps the last
		// duplicate: a proxy or WAF that reads the first "code" would see
		// another value than this handler. Refuse the ambiguity.
		return nil, invalidRequest("the body must not repeat a field (field names are matched without regard to case)", err)
	}
	switch {
	case req.Code == "":
		return nil, &HTTPError{Status: http.StatusBadRequest, Code: CodeMissingCode,
			Message: "code is required: send the code from wx.login"}
	case len(req.Code) > wxauth.MaxCodeLen:
		return nil, invalidRequest("code is too long", nil)
	case (req.RawData == "") != (req.Signature == ""):
		return nil, invalidRequest("rawData and signature must be sent together", nil)
	case (req.EncryptedData == "") != (req.IV == ""):
		return nil, invalidRequest("encryptedData and iv must be sent together", nil)
	// Checks of form, made before the single-use code is spent at WeChat.
	// None depends on the ciphertext, so none tells a padding oracle anything.
	case req.Signature != "" && !isHexSHA1(req.Signature):
		return nil, invalidRequest("signature must be 40 hex digits", nil)
	case req.IV != "" && crypto.CheckIV(req.IV) != nil:
		return nil, invalidRequest("iv must be base64 of 16 bytes", nil)
	}
	return &req, nil
}

// uniqueKeys reports an error when the JSON object b repeats a top-level
// key, comparing keys without regard to case as encoding/json does.
func uniqueKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // '{', checked by the caller's Unmarshal
		return err
	}
	seen := make(map[string]bool, 5)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		k := strings.ToLower(key)
		if seen[k] {
			return errors.New("session: login: repeated field in body")
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// isHexSHA1 reports whether s is 40 hex digits, the form of a sha1 signature.
func isHexSHA1(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func invalidRequest(msg string, err error) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: msg, Err: err}
}

// login checks a login request with WeChat, issues its token and returns the
// response body.
func (h *loginHandler) login(ctx context.Context, req *loginRequest) ([]byte, *HTTPError) {
	if e := h.m.loginGate(ctx); e != nil { // the store is down: keep the code for the retry
		return nil, e
	}
	sess, err := h.client.Code2Session(ctx, req.Code)
	if err != nil {
		return nil, WeChatError(ctx, err)
	}
	if sess == nil || sess.OpenID == "" {
		return nil, WeChatError(ctx, errors.New("session: login: code2session returned no openid"))
	}
	info := &LoginInfo{Session: sess}
	if req.RawData != "" {
		if err := h.client.VerifySignature(sess.SessionKey, req.RawData, req.Signature); err != nil {
			if !errors.Is(err, crypto.ErrSignature) {
				return nil, serverError(err)
			}
			return nil, &HTTPError{Status: http.StatusUnauthorized, Code: CodeInvalidSignature,
				Message: "rawData does not match its signature", Err: err}
		}
		info.RawData = req.RawData
	}
	if req.EncryptedData != "" {
		ui, e := h.decryptUserInfo(sess, req)
		if e != nil {
			return nil, e
		}
		info.UserInfo = ui
	}
	var fields map[string]any
	if h.onLogin != nil {
		if fields, err = h.onLogin(ctx, info); err != nil {
			return nil, hookError(ctx, err)
		}
	}
	token, err := h.m.Issue(ctx, sess, ForSubject(info.Subject))
	if err != nil {
		return nil, h.m.tokenError(err)
	}
	resp := make(map[string]any, len(fields)+len(reservedFields))
	for k, v := range fields {
		resp[k] = v
	}
	for _, k := range reservedFields {
		delete(resp, k)
	}
	resp["token"] = token
	resp["expiresIn"] = int64(h.m.TTL() / time.Second)
	resp["openid"] = sess.OpenID
	if sess.UnionID != "" {
		resp["unionid"] = sess.UnionID
	}
	if info.UserInfo != nil {
		resp["userInfo"] = info.UserInfo
	}
	body, err := json.Marshal(resp)
	if err != nil { // a hook field that JSON cannot encode
		_ = h.m.Revoke(ctx, token)
		return nil, serverError(errors.New("session: login: the hook's fields cannot be encoded as JSON"))
	}
	return body, nil
}

// decryptUserInfo decrypts the request's encryptedData and checks that it
// belongs to the session's user.
func (h *loginHandler) decryptUserInfo(sess *wxauth.Session, req *loginRequest) (*wxauth.UserInfo, *HTTPError) {
	var ui wxauth.UserInfo
	if err := h.client.Decrypt(sess.SessionKey, req.EncryptedData, req.IV, &ui); err != nil {
		if errors.Is(err, wxauth.ErrWatermark) {
			return nil, &HTTPError{Status: http.StatusUnauthorized, Code: CodeWatermarkMismatch,
				Message: "encryptedData was not made for this mini-program", Err: err}
		}
		// One answer for every failure: telling them apart would make a
		// padding oracle.
		return nil, &HTTPError{Status: http.StatusBadRequest, Code: CodeDecryptFailed,
			Message: "encryptedData could not be decrypted with this login's session key", Err: err}
	}
	// CBC has no integrity and the client picks the iv, so it controls the
	// first plaintext block: it could rename or blank the openId key. WeChat
	// always sends openId in user info; demand it, equal to the session's.
	if ui.OpenID != sess.OpenID || (ui.UnionID != "" && ui.UnionID != sess.UnionID) {
		return nil, &HTTPError{Status: http.StatusUnauthorized, Code: CodeIdentityMismatch,
			Message: "encryptedData belongs to another user",
			Err:     errors.New("session: login: decrypted openId or unionId differs from the session's")}
	}
	return &ui, nil
}

// WeChatError maps an error of a [wxauth.Client] call (code2session) to the
// answer [LoginHandler] gives it, so that a handler of one's own answers as
// LoginHandler does: invalid or used codes 401, rate limits 429, high-risk
// users 403, a misconfigured app 500 (log it at Error), WeChat down 502, a
// client that went away 499. The message never repeats WeChat's text; the
// cause is in Err, for logs.
func WeChatError(ctx context.Context, err error) *HTTPError {
	e := &HTTPError{Err: err}
	switch {
	case ctx.Err() != nil:
		return canceled(err)
	case errors.Is(err, wxauth.ErrInvalidCode):
		e.Status, e.Code, e.Message = http.StatusUnauthorized, CodeInvalidCode,
			"the login code is invalid or expired: call wx.login again"
	case errors.Is(err, wxauth.ErrCodeUsed):
		e.Status, e.Code, e.Message = http.StatusUnauthorized, CodeCodeUsed,
			"the login code was already used: call wx.login again"
	case errors.Is(err, wxauth.ErrRateLimited):
		e.Status, e.Code, e.Message = http.StatusTooManyRequests, CodeRateLimited,
			"too many logins: try again later"
	case errors.Is(err, wxauth.ErrHighRisk):
		e.Status, e.Code, e.Message = http.StatusForbidden, CodeHighRisk,
			"WeChat refused this login: the user is blocked as high risk"
	case errors.Is(err, wxauth.ErrInvalidCredential):
		// The app's appid or secret is wrong: nothing the user can do.
		return serverError(err)
	default: // busy, unreachable, timed out, malformed reply, other errcodes
		e.Status, e.Code, e.Message = http.StatusBadGateway, CodeWeChatUnavailable,
			"WeChat could not be reached: try again later"
	}
	return e
}

// hookError maps an error of the OnLogin hook to its answer.
func hookError(ctx context.Context, err error) *HTTPError {
	var he *HTTPError
	switch {
	case errors.As(err, &he) && he.Status >= 400 && he.Status <= 599 && he.Code != "":
		return he
	case errors.Is(err, ErrLoginRefused):
		return &HTTPError{Status: http.StatusForbidden, Code: CodeLoginRefused, Message: "login refused", Err: err}
	case ctx.Err() != nil:
		return canceled(err)
	}
	return serverError(err)
}
