package session

import (
	"errors"
	"net/http"

	"github.com/wxmp/miniauth"
)

// PhoneClient is a [miniauth.Client] that can also exchange the code of the
// phone-number button for the user's number ([miniauth.PhoneExchanger]), as
// *wxauth.App does. [LoginHandler] needs one to accept a phoneCode, and
// [PhoneHandler] always does. Implementations must be safe for concurrent
// use.
type PhoneClient interface {
	miniauth.Client
	miniauth.PhoneExchanger
}

// phoneRequest is the JSON body of [PhoneHandler].
type phoneRequest struct {
	phoneInput
}

type phoneHandler struct{ *flow }

// PhoneHandler returns the handler that binds a phone number to a logged-in
// session: a POST with the JSON body {"phoneCode": "..."} (e.detail.code of
// the phone-number button; on Alipay {"phoneResponse": "..."}, on Baidu and
// Kuaishou {"phoneEncryptedData": "...", "phoneIv": "..."}, as
// [LoginHandler] reads them) from a client that carries its token, as
// [Manager.Middleware] reads it. It exchanges the code with the platform of
// the session's app (the client apps gives for the [Record]'s Platform and
// AppID) for the session's openid ([miniauth.ForOpenID]: WeChat refuses the
// code of another user; Douyin's code, and Alipay's response, are tied to
// no user, see [LoginInfo.Phone]), calls the [WithOnLogin] hook with a [LoginInfo] built from the
// session ([LoginInfo.Session] with its AppID, OpenID, UnionID and
// SessionKey, [LoginInfo.Phone] set, and [LoginInfo.Subject] pre-set to the
// session's [Record.Subject]), then issues a NEW token carrying the hook's
// Subject and revokes the old one: a session that gains a user is a new
// session, and ends no later than the old one did. A logout of the old
// token, or a RevokeAll of its owner, that runs while the bind is under way
// ends the session all the same (401 invalid_token). It answers 200 with
// the same body as [LoginHandler],
//
//	{"token": "...", "expiresIn": 86400, "openid": "...", "unionid": "...", ...the hook's fields}
//
// (in cookie mode, the new token in the cookie and not in the body). The
// client replaces its token with the new one.
//
// Refusals are those of LoginHandler that apply (405, 403
// cross_origin_request, 413, 400 invalid_request (no phoneCode, or one over
// 256 bytes or not printable), 400 invalid_phone_code, 429, 502, 503, 500,
// 403 login_refused, 503 code_spent, 503 service_busy), and those of the middleware for the
// token: 401 invalid_token or expired_token, 503 store_unavailable. The hook
// may refuse after WeChat has exchanged the code (the user then presses the
// button, billed, again).
//
// One token makes one bind: the handler takes the old token out of the
// store ([TakeStore]) before it spends the phone code, so that of
// concurrent binds with one token exactly one goes on and the others are
// refused 401 invalid_token without spending their codes; other requests
// with the token meanwhile are refused 401 too. A bind that fails before
// its new token is issued (a refused phone code, a hook that refuses, an
// outage) puts the old token back, valid as before.
//
// A session whose app apps no longer serves is refused 400 unknown_app, and
// one whose platform has no phone codes 400 not_supported. A single client
// that is not a [PhoneClient], nil apps or Manager, or a Manager whose
// options failed make a handler that answers every request 500 and logs why
// at Error.
func PhoneHandler(apps miniauth.Apps, m *Manager, opts ...LoginOption) http.Handler {
	f := newFlow("phone handler", apps, m, opts)
	if f.err == nil && f.single != nil {
		if _, ok := f.single.(miniauth.PhoneExchanger); !ok {
			f.err = errors.New("session: phone handler: the client has no GetPhoneNumber (see session.PhoneClient)")
		}
	}
	return phoneHandler{f}
}

func (h phoneHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const op = "phone"
	if !h.accept(w, r, op) {
		return
	}
	rec, e := h.m.Authenticate(r)
	if e != nil {
		h.m.refuseToken(w, r, op, e)
		return
	}
	if e := h.bind(w, r, rec); e != nil {
		h.m.refuseToken(w, r, op, e)
	}
}

// bind exchanges the request's phone code for the session rec (its token
// authenticated) and writes the answer with a new token.
func (h phoneHandler) bind(w http.ResponseWriter, r *http.Request, rec *Record) *HTTPError {
	var req phoneRequest
	if e := readJSONBody(w, r, &req, "the body must be a JSON object with the string field phoneCode (or phoneResponse, or phoneEncryptedData and phoneIv)"); e != nil {
		return e
	}
	if req.empty() {
		return invalidRequest("phoneCode is required: 1 to 256 bytes of printable ASCII from the phone-number button (Alipay: phoneResponse; Baidu, Kuaishou: phoneEncryptedData and phoneIv)", nil)
	}
	if e := req.check(); e != nil {
		return e
	}
	// The session's own app, never one the request names: a token of one
	// app cannot spend a phone code at another. A session without an appid
	// (issued by hand) binds only where one app is served.
	c, e := h.resolve(r, string(rec.Platform), rec.AppID)
	if e != nil {
		return e
	}
	if e := h.phoneSupported(c, &req.phoneInput); e != nil {
		return e
	}
	ctx := r.Context()
	if e := h.m.loginGate(ctx); e != nil { // the store is down: keep the billed phone code for the retry
		return e
	}
	// One token, one bind: the token leaves the store before the phone
	// code is spent, so that of concurrent binds with it one goes on and
	// the others are refused 401, their codes unspent. A bind that fails
	// before its new token is issued puts the old one back.
	claimed, err := h.m.claimRequest(r)
	if err != nil {
		return h.m.tokenError(err)
	}
	rec = claimed.rec
	issued := false
	defer func() {
		if !issued {
			_ = h.m.giveBack(ctx, claimed)
		}
	}()
	sess := &miniauth.Session{Platform: rec.Platform, AppID: rec.AppID, OpenID: rec.OpenID, UnionID: rec.UnionID, SessionKey: rec.SessionKey}
	phone, e := h.phone(ctx, c, &req.phoneInput, sess)
	if e != nil {
		return e
	}
	info := &LoginInfo{Session: sess, Phone: phone, Subject: rec.Subject}
	fields, e := h.callHook(ctx, info)
	if e != nil {
		return spent(e, spentPhone)
	}
	// The new session continues the old one: it ends no later.
	token, body, life, e := h.issue(ctx, sess, info, fields, rec.ExpiresAt)
	if e != nil {
		return spent(e, spentPhone)
	}
	// The old token is gone already: two live tokens for one login would
	// outlast a logout of either.
	issued = true
	// A Revoke or RevokeAll that ran while the old token was out of the
	// store did not see it; its mark says so, and the new token ends too.
	if e := h.m.endIfRevoked(ctx, claimed, token); e != nil {
		return spent(e, spentPhone)
	}
	h.m.observeLogin(ctx, "phone", c.Platform().OrWeChat(), nil)
	h.answer(w, token, body, life)
	return nil
}
