package session

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// MaxLoginBodyLen is the largest request body [LoginHandler] and
// [PhoneHandler] read: 64 KiB. Larger bodies are answered 413.
const MaxLoginBodyLen = 64 << 10

// ErrLoginRefused is the error a [WithOnLogin] hook returns (or wraps) to
// refuse a login with 403 {"error": "login_refused"}. To answer with another
// status or code, return an [*HTTPError] instead.
var ErrLoginRefused = errors.New("session: login refused")

// LoginInfo is what a [WithOnLogin] hook learns of a login, once WeChat and
// the signature, encrypted data and phone code (when sent) have been checked.
type LoginInfo struct {
	// Session is the user's session from code2session (for [PhoneHandler]:
	// the one kept with the request's token). Its OpenID and UnionID are the
	// user's identity. Its SessionKey must stay on the server.
	Session *miniauth.Session
	// RawData is the rawData the client sent, its signature checked; empty
	// when none was sent. It is authenticated: only WeChat and this server
	// know the session_key that signs it.
	RawData string
	// UserInfo is the decrypted encryptedData, its watermark checked; nil
	// when none was sent. It is a profile, never an identity: the openId and
	// unionId in it, when there are any, equal the session's (getUserInfo
	// sends them; getUserProfile sends neither). Its fields are NOT
	// authenticated: AES-CBC has no integrity and the client picks the iv,
	// so it controls the first block of the plaintext. Trust [RawData] (or
	// what the user typed in) for anything that matters.
	UserInfo *miniauth.UserInfo
	// Phone is the phone number the platform gave for the phone form the
	// client sent (phoneCode, phoneResponse, or phoneEncryptedData and
	// phoneIv); nil when none was sent. Its OpenID is the session's when
	// the platform tied the number to this user: a WeChat phone code
	// (exchanged with the session's openid) or encrypted data made with the
	// session key. It is empty for Douyin's phone code and Alipay's phone
	// response, which prove the number to whoever holds them: do not join
	// such a login to an existing user by the phone alone (package account
	// does not, by default).
	Phone *miniauth.PhoneNumber
	// Subject is the application's own id of the user. The hook sets it
	// (when it knows or creates the user); the token issued carries it in
	// [Record.Subject]. Left empty, the session belongs to an openid not
	// bound to a user yet (see [OnLoginFunc]). [PhoneHandler] sets it to the
	// session's current subject before it calls the hook.
	Subject string
}

// OnLoginFunc is a hook that [LoginHandler] and [PhoneHandler] call after
// they have checked a login and before they issue a token: the place to map
// the WeChat identity to the application's own user (look it up, create it,
// bind a phone) and set [LoginInfo.Subject].
//
// A login without a subject is a real state: an openid the application has
// not bound to a user yet (a silent wx.login by someone who has not given
// their phone number). The hook decides: leave Subject empty and return
// fields such as {"registered": false}, so that the client shows the phone
// button and then calls [PhoneHandler] (or logs in again with a phoneCode);
// or refuse the login.
//
// The fields it returns are added to the JSON response; fields named token,
// expiresIn, openid, unionid or userInfo, in any case (compared as
// encoding/json compares keys), are dropped: the handler's win. The phone
// number and the subject are not in the response unless the hook adds them.
// To refuse the login it returns [ErrLoginRefused] (403 login_refused) or
// an [*HTTPError] (its own status, 400 to 599, and code); any other error is
// a failure of the server: 500 server_error, logged at Error.
//
// When the request carried a phone code, the hook runs after WeChat has
// exchanged it: a hook that refuses then has spent the code, and the client
// must press the phone button again (a second billed press).
type OnLoginFunc func(ctx context.Context, info *LoginInfo) (fields map[string]any, err error)

// A LoginOption configures [LoginHandler] or [PhoneHandler].
type LoginOption func(*flow)

// WithAppIDFrom sets how the handler learns the app of a request whose
// body names none: from the path (func(r) string { return
// r.PathValue("appid") }), a header, or the Referer WeChat sets on a
// mini-program's requests ([RefererAppID]). The body's appid, when sent,
// wins. The result only picks a client: a code works with its own app
// alone, so a wrong pick fails at the platform, never logs in to another
// app. A nil f means none.
func WithAppIDFrom(f func(r *http.Request) string) LoginOption {
	return func(h *flow) { h.appFrom = f }
}

// RefererAppID returns the appid in the Referer that WeChat's mini-program
// runtime sets on every request, https://servicewechat.com/{appid}/{version}/page-frame.html,
// or "" when the Referer is not of that form. It is a hint for
// [WithAppIDFrom], never an authentication: any client can send any
// Referer.
func RefererAppID(r *http.Request) string {
	const prefix = "https://servicewechat.com/"
	ref := r.Referer()
	if !strings.HasPrefix(ref, prefix) {
		return ""
	}
	id, _, ok := strings.Cut(ref[len(prefix):], "/")
	if !ok || id == "" || len(id) > maxAppIDLen || !printable(id) {
		return ""
	}
	return id
}

// WithOnLogin sets the hook the handler calls for each checked login (see
// [OnLoginFunc]). A nil hook means none.
func WithOnLogin(f OnLoginFunc) LoginOption {
	return func(h *flow) { h.onLogin = f }
}

// loginRequest is the JSON body of a login.
type loginRequest struct {
	AppID    string `json:"appid"`
	Platform string `json:"platform"`
	Code     string `json:"code"`
	phoneInput
	RawData       string `json:"rawData"`
	Signature     string `json:"signature"`
	EncryptedData string `json:"encryptedData"`
	IV            string `json:"iv"`
}

type loginHandler struct{ *flow }

// LoginHandler returns the handler of a mini-program's login request: a POST
// with the JSON body {appid?, platform?, code, phoneCode?, phoneResponse?,
// phoneEncryptedData?, phoneIv?, rawData?, signature?, encryptedData?, iv?}
// made of what the platform's login call
// (wx.login, tt.login, my.getAuthCode, qq.login, swan.login, ks.login,
// wx.qy.login), and the phone-number button or the user-info call,
// returned.
//
// apps says which client serves the request: the body's appid (appId folds
// to it, as encoding/json folds keys) picks the app, and platform
// ("wechat", "douyin", ...) picks between two platforms that serve one
// appid. A single client (a *wxauth.App, a *douyinauth.App, ...) is the
// Apps of its own app and needs no appid; [miniauth.NewApps] and
// [miniauth.AppsFunc] serve several, and then a body without an appid, or
// with one they do not serve, is refused 400 unknown_app before anything is
// sent upstream. See also [WithAppIDFrom].
//
// It exchanges the code with the app's platform, checks the signature of rawData and decrypts encryptedData when
// they are sent, exchanges the phone code when one is sent, calls the
// [WithOnLogin] hook, issues a token with m and answers 200 with
//
//	{"token": "...", "expiresIn": 86400, "openid": "...", "unionid": "...", "userInfo": {...}}
//
// (unionid when WeChat sent one, userInfo when encryptedData was sent, and
// the hook's fields; no token in cookie mode, see [WithTokenCookie]). The
// session_key never leaves the server.
//
// The phone number comes in the form the app's platform gives it, at most
// one per request: phoneCode, the one-time code of the phone-number button
// (WeChat, Douyin; a [miniauth.PhoneExchanger]); phoneResponse, the signed
// and encrypted response of Alipay's my.getPhoneNumber (a
// [miniauth.PhoneDecrypter]); phoneEncryptedData and phoneIv, the encrypted
// number of the button's callback (Baidu, Kuaishou; a [miniauth.Decrypter],
// with the login's session key). A phone response or encrypted data that
// does not verify or decrypt is 400 invalid_phone_code, as a refused code
// is. Decrypted numbers are as trustworthy as the platform's scheme: AES-CBC
// has no integrity, but the client does not know the session key. Only
// WeChat's code (exchanged with the openid) and data made with the session
// key tie the number to this user ([miniauth.PhoneNumber.OpenID]): a
// Douyin code works for any user of the app, and an Alipay response is the
// same at every press, so whoever holds one holds the number.
//
// The phone code (e.detail.code of the phone-number button) is exchanged
// last, with [miniauth.ForOpenID] of the session's openid, and only when the
// login itself succeeded: WeChat bills each press of the button and a code
// works once, so a refused login code leaves it unspent, and the client can
// log in again with a fresh wx.login code and the same phone code. The hook sees
// the number in [LoginInfo.Phone]. Exchanging needs a client that is also a
// [miniauth.PhoneExchanger] (as *wxauth.App is); rawData needs a
// [miniauth.SignatureVerifier] and encryptedData a [miniauth.Decrypter].
//
// Refusals are JSON {"error": code, "message": text} (see [WithErrorHandler]),
// with a fixed message per code that never repeats WeChat's error text:
//
//	405 method_not_allowed    not a POST
//	403 cross_origin_request  cookie mode only: a browser's request from another origin
//	413 request_too_large     body over 64 KiB
//	400 invalid_request       not a JSON object of strings; a field repeated; rawData without signature, encryptedData without iv, a code or phoneCode over 256 bytes or not printable; two phone fields
//	400 unknown_app           no app of apps has the body's appid (and platform), or none was named where apps serves several
//	400 not_supported         a field the app's platform cannot use: phoneCode, phoneResponse, phoneEncryptedData, rawData or encryptedData
//	400 missing_code          no code (WeChat is not called)
//	401 invalid_code          WeChat does not know the code, or it expired
//	401 code_used             the code was already used
//	400 invalid_phone_code    WeChat refused the phone code: unknown, expired, used, of another app or user (no token is issued); its 40013 is also what an access token of another app gets, so that one is logged at Error once a burst
//	429 rate_limited          WeChat's per-user rate limit (code2session's 45011)
//	503 service_busy          WeChat's rate limit of the app (45011 on stable_token, token or getuserphonenumber; logged at Error once a burst)
//	403 high_risk_user        WeChat blocked the user as high risk
//	502 wechat_unavailable    WeChat busy, unreachable, or answering nonsense
//	503 quota_exceeded        the app's daily quota of the API is spent (logged at Error)
//	500 server_error          WeChat refused the appid, secret, IP or API, or the form of the request (40097, API security mode) (logged at Error: fix the configuration); a phoneCode and a client that cannot exchange it
//	401 invalid_signature     rawData does not match its signature
//	400 decrypt_failed        encryptedData and iv do not decrypt (one code and message whatever the cause)
//	401 watermark_mismatch    encryptedData was made for another mini-program
//	401 identity_mismatch     encryptedData names another openId or unionId than the session
//	400 encrypted_data_unverified  WithEncryptedDataCheck: WeChat did not produce encryptedData (the phone code is not spent)
//	403 login_refused         the hook refused
//	503 store_unavailable     the session store, or another dependency of the login (the account database, see [WithDependency]), is down; no code was spent: retry later with the same codes
//	503 code_spent            a store or dependency failed after WeChat took the codes: call wx.login again (and ask for the phone number again, when a phoneCode was sent), then retry
//
// encryptedData is a profile, never an identity: the identity comes from
// code2session. wx.getUserProfile's encryptedData has no openId and no
// unionId, and is accepted as a profile; getUserInfo's has them, and they
// must equal the session's (a unionId that code2session did not return is
// refused too, since it cannot be told from a forged one). Decrypted fields
// are not authenticated (see [LoginInfo.UserInfo]); signed rawData is.
//
// A nil client or Manager, or a Manager whose options failed
// ([Manager.Err]), makes a handler that answers every request 500 and logs
// why at Error.
func LoginHandler(apps miniauth.Apps, m *Manager, opts ...LoginOption) http.Handler {
	return loginHandler{newFlow("login handler", apps, m, opts)}
}

func (h loginHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const op = "login"
	if !h.accept(w, r, op) {
		return
	}
	req, c, e := h.readLoginRequest(w, r)
	if e == nil {
		e = h.login(w, r, c, req)
	}
	if e != nil {
		h.m.refuse(w, r, op, e)
	}
}

// readLoginRequest reads and checks the body of a login request, and
// returns it with the client of its app.
func (h loginHandler) readLoginRequest(w http.ResponseWriter, r *http.Request) (*loginRequest, miniauth.Client, *HTTPError) {
	var req loginRequest
	if e := readJSONBody(w, r, &req, "the body must be a JSON object with string fields appid, platform, code, phoneCode, phoneResponse, phoneEncryptedData, phoneIv, rawData, signature, encryptedData and iv"); e != nil {
		return nil, nil, e
	}
	if e := checkLoginRequest(&req); e != nil {
		return nil, nil, e
	}
	c, e := h.client(r, req.Platform, req.AppID)
	if e != nil {
		return nil, nil, e
	}
	// What the request needs of the platform, refused before the code is
	// spent.
	if req.RawData != "" {
		if _, ok := c.(miniauth.SignatureVerifier); !ok {
			return nil, nil, notSupported(c, "rawData")
		}
	}
	if req.EncryptedData != "" {
		if _, ok := c.(miniauth.Decrypter); !ok {
			return nil, nil, notSupported(c, "encryptedData")
		}
	}
	if e := h.phoneSupported(c, &req.phoneInput); e != nil {
		return nil, nil, e
	}
	return &req, c, nil
}

// checkLoginRequest checks the form of a login body.
func checkLoginRequest(req *loginRequest) *HTTPError {
	switch {
	case req.Code == "":
		return &HTTPError{Status: http.StatusBadRequest, Code: CodeMissingCode,
			Message: "code is required: send the code from wx.login"}
	case len(req.Code) > miniauth.MaxCodeLen:
		return invalidRequest("code is too long", nil)
	case (req.RawData == "") != (req.Signature == ""):
		return invalidRequest("rawData and signature must be sent together", nil)
	case (req.EncryptedData == "") != (req.IV == ""):
		return invalidRequest("encryptedData and iv must be sent together", nil)
	// Checks of form, made before the single-use code is spent at WeChat.
	// None depends on the ciphertext, so none tells a padding oracle anything.
	case req.Signature != "" && !isHexSHA1(req.Signature):
		return invalidRequest("signature must be 40 hex digits", nil)
	case req.IV != "" && crypto.CheckIV(req.IV) != nil:
		return invalidRequest("iv must be base64 of 16 bytes", nil)
	}
	return req.phoneInput.check()
}

// login checks a login request with WeChat, issues its token and writes the
// answer.
func (h loginHandler) login(w http.ResponseWriter, r *http.Request, c miniauth.Client, req *loginRequest) *HTTPError {
	ctx := r.Context()
	if e := h.m.loginGate(ctx); e != nil { // the store is down: keep the code for the retry
		return e
	}
	sess, err := c.Code2Session(ctx, req.Code)
	if err != nil {
		if e := h.m.wechatFault(ctx, "login", err); e != nil {
			return e
		}
		return WeChatError(ctx, err)
	}
	if sess == nil || sess.OpenID == "" {
		return WeChatError(ctx, errors.New("session: login: code2session returned no openid"))
	}
	if sess.Platform == "" || sess.AppID == "" { // a client of one's own may leave them to us
		s := *sess
		if s.Platform == "" {
			s.Platform = c.Platform()
		}
		if s.AppID == "" {
			s.AppID = c.AppID()
		}
		sess = &s
	}
	info := &LoginInfo{Session: sess}
	if req.RawData != "" {
		if err := c.(miniauth.SignatureVerifier).VerifySignature(sess.SessionKey, req.RawData, req.Signature); err != nil {
			if !errors.Is(err, crypto.ErrSignature) {
				return serverError(err)
			}
			return &HTTPError{Status: http.StatusUnauthorized, Code: CodeInvalidSignature,
				Message: "rawData does not match its signature", Err: err}
		}
		info.RawData = req.RawData
	}
	if req.EncryptedData != "" {
		ui, e := h.decryptUserInfo(c.(miniauth.Decrypter), sess, req)
		if e == nil {
			e = h.verifyEncryptedData(ctx, c, req.EncryptedData)
		}
		if e != nil {
			return e
		}
		info.UserInfo = ui
	}
	if !req.phoneInput.empty() { // last: the login is good, the phone code may be spent
		p, e := h.phone(ctx, c, &req.phoneInput, sess)
		if e != nil {
			return e
		}
		info.Phone = p
	}
	todo := spentLogin
	if info.Phone != nil {
		todo = spentLoginPhone
	}
	fields, e := h.callHook(ctx, info)
	if e != nil {
		return spent(e, todo)
	}
	token, body, life, e := h.issue(ctx, sess, info, fields, time.Time{})
	if e != nil {
		return spent(e, todo)
	}
	h.m.observeLogin(ctx, "login", c.Platform().OrWeChat(), nil)
	h.answer(w, token, body, life)
	return nil
}

// decryptUserInfo decrypts the request's encryptedData and checks that it
// does not name another user than the session's.
func (h loginHandler) decryptUserInfo(d miniauth.Decrypter, sess *miniauth.Session, req *loginRequest) (*miniauth.UserInfo, *HTTPError) {
	var ui miniauth.UserInfo
	if err := d.Decrypt(sess.SessionKey, req.EncryptedData, req.IV, &ui); err != nil {
		if errors.Is(err, miniauth.ErrWatermark) {
			return nil, &HTTPError{Status: http.StatusUnauthorized, Code: CodeWatermarkMismatch,
				Message: "encryptedData was not made for this mini-program", Err: err}
		}
		// One answer for every failure: telling them apart would make a
		// padding oracle.
		return nil, &HTTPError{Status: http.StatusBadRequest, Code: CodeDecryptFailed,
			Message: "encryptedData could not be decrypted with this login's session key", Err: err}
	}
	// wx.getUserProfile's encryptedData carries no openId and no unionId
	// (https://developers.weixin.qq.com/miniprogram/dev/api/open-api/user-info/wx.getUserProfile.html,
	// "Bug & Tip"); getUserInfo's carries both. The identity always comes
	// from code2session, so data without them is a profile. CBC has no
	// integrity and the client picks the iv (it controls the first block:
	// it could rename or blank the openId key), which is why the data is
	// never an identity; but an id it does name must be the session's.
	if (ui.OpenID != "" && ui.OpenID != sess.OpenID) || (ui.UnionID != "" && ui.UnionID != sess.UnionID) {
		return nil, &HTTPError{Status: http.StatusUnauthorized, Code: CodeIdentityMismatch,
			Message: "encryptedData belongs to another user",
			Err:     errors.New("session: login: decrypted openId or unionId differs from the session's")}
	}
	return &ui, nil
}

// WeChatError maps an error of a platform client's call (Code2Session,
// GetPhoneNumber: on any platform, through the [miniauth] sentinels) to the
// answer [LoginHandler] gives it, so that a
// handler of one's own answers as LoginHandler does: invalid or used login
// codes 401, a refused phone code 400 invalid_phone_code, rate limits 429,
// high-risk users 403, a misconfigured or refused app (wrong appid or
// secret, [miniauth.ErrNotAllowed]) 500, an app the platform says it does
// not serve ([miniauth.ErrUnknownApp]: a mini-program that withdrew its
// authorization of a third-party platform) 400 unknown_app, the app's daily quota spent
// ([miniauth.ErrQuotaExceeded]) 503 quota_exceeded, WeChat down 502, a client
// that went away 499. The statuses of 500 and up other than 502 are logged
// at Error by the handlers of this package: they need an operator.
//
// The quota is 503, not 429: it is the app's, not the user's, and it
// resets at midnight (Beijing time) or when an operator clears it, not in a
// second. The message never repeats WeChat's text; the cause is in Err, for
// logs.
func WeChatError(ctx context.Context, err error) *HTTPError {
	e := &HTTPError{Err: err}
	switch {
	case ctx.Err() != nil:
		return canceled(err)
	case errors.Is(err, miniauth.ErrInvalidCode):
		e.Status, e.Code, e.Message = http.StatusUnauthorized, CodeInvalidCode,
			"the login code is invalid or expired: call wx.login again"
	case errors.Is(err, miniauth.ErrCodeUsed):
		e.Status, e.Code, e.Message = http.StatusUnauthorized, CodeCodeUsed,
			"the login code was already used: call wx.login again"
	case errors.Is(err, miniauth.ErrInvalidPhoneCode):
		e.Status, e.Code, e.Message = http.StatusBadRequest, CodeInvalidPhoneCode,
			"the phone code is invalid, expired or used: ask for the phone number again"
	case errors.Is(err, miniauth.ErrRateLimited):
		e.Status, e.Code, e.Message = http.StatusTooManyRequests, CodeRateLimited,
			"too many logins: try again later"
	case errors.Is(err, miniauth.ErrHighRisk):
		e.Status, e.Code, e.Message = http.StatusForbidden, CodeHighRisk,
			"WeChat refused this login: the user is blocked as high risk"
	case errors.Is(err, miniauth.ErrUnknownApp):
		// The platform itself says the app is not served (WeChat 61003: a
		// mini-program that withdrew its authorization of a third-party
		// platform): as when the Apps refuses it, nothing to retry.
		return unknownApp(err)
	case errors.Is(err, miniauth.ErrQuotaExceeded):
		e.Status, e.Code, e.Message = http.StatusServiceUnavailable, CodeQuotaExceeded,
			"the service has reached its daily limit: try again tomorrow"
	case errors.Is(err, miniauth.ErrInvalidCredential), errors.Is(err, miniauth.ErrNotAllowed),
		errors.Is(err, miniauth.ErrRequestRejected):
		// The app's appid or secret is wrong, WeChat refuses this app or
		// server (IP whitelist, frozen secret, API not authorized), or it
		// cannot use the requests this server makes: nothing the user can do,
		// and no retry helps.
		return serverError(err)
	default: // busy, unreachable, timed out, malformed reply, other errcodes
		e.Status, e.Code, e.Message = http.StatusBadGateway, CodeWeChatUnavailable,
			"WeChat could not be reached: try again later"
	}
	return e
}
