package session

import (
	"context"
	"errors"
	"net/http"

	"github.com/wxmp/miniauth/wxauth"
)

// PhoneClient is a [wxauth.Client] that can also exchange the code of the
// phone-number button for the user's number, as *wxauth.App does
// ([wxauth.App.GetPhoneNumber]). [LoginHandler] needs one to accept a
// phoneCode, and [PhoneHandler] always does. Implementations must be safe
// for concurrent use.
type PhoneClient interface {
	wxauth.Client
	GetPhoneNumber(ctx context.Context, code string, opts ...wxauth.PhoneOption) (*wxauth.PhoneNumber, error)
}

// phoneRequest is the JSON body of [PhoneHandler].
type phoneRequest struct {
	PhoneCode string `json:"phoneCode"`
}

type phoneHandler struct{ *flow }

// PhoneHandler returns the handler that binds a phone number to a logged-in
// session: a POST with the JSON body {"phoneCode": "..."} (e.detail.code of
// the phone-number button) from a client that carries its token, as
// [Manager.Middleware] reads it. It exchanges the code with WeChat for the
// session's openid ([wxauth.ForOpenID]: the code of another user is
// refused), calls the [WithOnLogin] hook with a [LoginInfo] built from the
// session ([LoginInfo.Session] with its AppID, OpenID, UnionID and
// SessionKey, [LoginInfo.Phone] set, and [LoginInfo.Subject] pre-set to the
// session's [Record.Subject]), then issues a NEW token carrying the hook's
// Subject and revokes the old one: a session that gains a user is a new
// session. It answers 200 with the same body as [LoginHandler],
//
//	{"token": "...", "expiresIn": 86400, "openid": "...", "unionid": "...", ...the hook's fields}
//
// (in cookie mode, the new token in the cookie and not in the body). The
// client replaces its token with the new one.
//
// Refusals are those of LoginHandler that apply (405, 403
// cross_origin_request, 413, 400 invalid_request (no phoneCode, or one over
// 256 bytes or not printable), 400 invalid_phone_code, 429, 502, 503, 500,
// 403 login_refused, 503 code_spent), and those of the middleware for the
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
// client must be a [PhoneClient]; a client that is not, a nil client or
// Manager, or a Manager whose options failed make a handler that answers
// every request 500 and logs why at Error.
func PhoneHandler(client wxauth.Client, m *Manager, opts ...LoginOption) http.Handler {
	f := newFlow("phone handler", client, m, opts)
	if f.err == nil && f.phones == nil {
		f.err = errors.New("session: phone handler: the wxauth client has no GetPhoneNumber (see session.PhoneClient)")
	}
	return phoneHandler{f}
}

func (h phoneHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const op = "phone"
	if !h.accept(w, r, op) {
		return
	}
	if _, e := h.m.Authenticate(r); e != nil {
		h.m.refuseToken(w, r, op, e)
		return
	}
	if e := h.bind(w, r); e != nil {
		h.m.refuseToken(w, r, op, e)
	}
}

// bind exchanges the request's phone code for the session of its token
// (already authenticated) and writes the answer with a new token.
func (h phoneHandler) bind(w http.ResponseWriter, r *http.Request) *HTTPError {
	var req phoneRequest
	if e := readJSONBody(w, r, &req, "the body must be a JSON object with the string field phoneCode"); e != nil {
		return e
	}
	if !validPhoneCode(req.PhoneCode) {
		return invalidRequest("phoneCode is required: 1 to 256 bytes of printable ASCII from the phone-number button", nil)
	}
	ctx := r.Context()
	if e := h.m.loginGate(ctx); e != nil { // the store is down: keep the billed phone code for the retry
		return e
	}
	// One token, one bind: the token leaves the store before the phone
	// code is spent, so that of concurrent binds with it one goes on and
	// the others are refused 401, their codes unspent. A bind that fails
	// before its new token is issued puts the old one back.
	c, err := h.m.claimRequest(r)
	if err != nil {
		return h.m.tokenError(err)
	}
	rec := c.rec
	issued := false
	defer func() {
		if !issued {
			_ = h.m.giveBack(ctx, c)
		}
	}()
	phone, e := h.exchangePhone(ctx, req.PhoneCode, rec.OpenID)
	if e != nil {
		return e
	}
	sess := &wxauth.Session{AppID: rec.AppID, OpenID: rec.OpenID, UnionID: rec.UnionID, SessionKey: rec.SessionKey}
	info := &LoginInfo{Session: sess, Phone: phone, Subject: rec.Subject}
	fields, e := h.callHook(ctx, info)
	if e != nil {
		return spent(e, spentPhone)
	}
	token, body, e := h.issue(ctx, sess, info, fields)
	if e != nil {
		return spent(e, spentPhone)
	}
	// The old token is gone already: two live tokens for one login would
	// outlast a logout of either.
	issued = true
	h.answer(w, token, body)
	return nil
}
