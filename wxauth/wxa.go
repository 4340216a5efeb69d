package wxauth

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// MaxOpenIDLen is the longest openid [App.CheckSessionKey] and
// [App.ResetSessionKey] send to WeChat. Real openids are 28 characters.
const MaxOpenIDLen = 128

// AccessToken returns the app's access_token, for calling WeChat APIs this
// package does not wrap. The token is cached in memory and shared through
// the [TokenStore] ([WithTokenStore]); a cached token costs no request and no
// allocation. It is replaced shortly before it expires (when, the package
// documentation says under Access token): during that window callers get
// the old, still valid token while one refresh runs in the background. Without a valid token,
// concurrent callers wait for one single refresh, each at most until its own
// ctx is done (then the error matches ctx.Err()).
//
// By default tokens come from POST /cgi-bin/stable_token in normal mode
// (force_refresh is never sent: WeChat allows it 20 times a day and it knocks
// out the token of everyone else); [WithClassicToken] selects GET
// /cgi-bin/token and [WithTokenSource] a source of your own.
//
// When WeChat refuses the token (errcode 40001, 40014 or 42001), report it
// with [App.InvalidateAccessToken] before asking for a new one.
func (a *App) AccessToken(ctx context.Context) (string, error) {
	return a.tokens.Get(ctx)
}

// InvalidateAccessToken tells the client that WeChat refused accessToken
// (errcode 40001, 40014 or 42001). It is dropped from the cache and from the
// [TokenStore], but only if it is still the current token there: a newer
// token that another goroutine or instance already fetched stays. The next
// [App.AccessToken] fetches a new one. The methods of App that use the token
// do this by themselves.
func (a *App) InvalidateAccessToken(ctx context.Context, accessToken string) {
	a.tokens.Invalidate(ctx, accessToken)
}

// callWithToken performs req with the access token in its query. If WeChat
// refuses that token, it is invalidated (only it) and the call is retried
// once with a new one; a new token equal to the refused one is not tried.
func (a *App) callWithToken(ctx context.Context, req request, out reply) error {
	return a.tokens.Call(ctx, isTokenError, func(tok string) error {
		return a.doWithToken(ctx, req, tok, out)
	})
}

func (a *App) doWithToken(ctx context.Context, req request, tok string, out reply) error {
	q := maps.Clone(req.query)
	if q == nil {
		q = make(map[string]string, 1)
	}
	q["access_token"] = tok
	req.query = q
	req.secrets = append(slices.Clip(req.secrets), tok)
	return a.do(ctx, req, out)
}

type phoneReply struct {
	baseReply
	PhoneInfo *PhoneNumber `json:"phone_info"`
}

// A PhoneOption configures one [App.GetPhoneNumber] call. It is
// [miniauth.PhoneOption].
type PhoneOption = miniauth.PhoneOption

// phoneBody is the JSON body of getuserphonenumber.
type phoneBody struct {
	Code   string `json:"code"`
	OpenID string `json:"openid,omitempty"`
}

// ForOpenID makes [App.GetPhoneNumber] send openid with the code, so that
// WeChat refuses a phone code that another user's button press produced
// (a stolen or replayed code). Pass the openid of the logged-in session the
// code arrived with; a login endpoint should always do so. An empty openid
// sends none. It is [miniauth.ForOpenID].
func ForOpenID(openid string) PhoneOption { return miniauth.ForOpenID(openid) }

// GetPhoneNumber exchanges the code from the mini-program's phone-number
// button (getPhoneNumber or getRealtimePhoneNumber event, e.detail.code) for
// the user's [PhoneNumber] (POST /wxa/business/getuserphonenumber).
//
// The code is valid for five minutes and works once. WeChat bills the app
// for every successful press of the button (0.03 yuan for getPhoneNumber,
// 0.04 for getRealtimePhoneNumber, beyond the free quota), when the
// mini-program receives the code: a code wasted, by a failed login, costs a
// second billed press. So spend it only when the rest of the login has
// succeeded, and bind it to the session's user with [ForOpenID]. Billing:
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/getPhoneNumber.html
// ("扣费节点").
//
// A code that is empty, over [MaxCodeLen] bytes or not printable ASCII, or an
// openid given with ForOpenID that is over [MaxOpenIDLen] bytes or not
// printable ASCII, is refused without a request ([ErrInvalidPhoneCode],
// [ErrInvalidOpenID]). WeChat's refusals are [*APIError]s: a bad, used or
// foreign code matches [ErrInvalidPhoneCode] (never [ErrInvalidCode] nor
// [ErrInvalidCredential]), and others [ErrRateLimited], [ErrSystemBusy],
// [ErrNotAllowed], ...; a reply whose watermark names another app is
// [ErrWatermark]; one without a phone number is [ErrBadResponse].
//
// Reference: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
func (a *App) GetPhoneNumber(ctx context.Context, code string, opts ...PhoneOption) (*PhoneNumber, error) {
	const op = opGetPhoneNumber
	if err := checkCode(op, code); err != nil {
		return nil, err
	}
	pr := miniauth.NewPhoneOptions(opts...)
	if pr.OpenID != "" && !validID(pr.OpenID) {
		return nil, fmt.Errorf("wxauth: %s: openid must be 1 to %d bytes of printable ASCII: %w", op, MaxOpenIDLen, ErrInvalidOpenID)
	}
	var r phoneReply
	err := a.callWithToken(ctx, request{
		op:      op,
		method:  http.MethodPost,
		path:    "/wxa/business/getuserphonenumber",
		body:    phoneBody{Code: code, OpenID: pr.OpenID},
		secrets: []string{code},
	}, &r)
	if err != nil {
		return nil, err
	}
	if r.PhoneInfo == nil || r.PhoneInfo.PhoneNumber == "" {
		return nil, badReply(op, "no phone number")
	}
	if r.PhoneInfo.Watermark.AppID != a.appID {
		return nil, fmt.Errorf("wxauth: %s: %w", op, ErrWatermark)
	}
	// WeChat refused the code if another user's press produced it.
	r.PhoneInfo.OpenID = pr.OpenID
	return r.PhoneInfo, nil
}

// sessionKeyRequest checks the arguments of checksession and
// resetusersessionkey and builds their request: the session_key itself is
// never sent, only its signature.
func sessionKeyRequest(op, path, openID, sessionKey string) (request, error) {
	if !validID(openID) {
		return request{}, fmt.Errorf("wxauth: %s: openid must be 1 to %d bytes of printable ASCII: %w", op, MaxOpenIDLen, ErrInvalidOpenID)
	}
	if err := crypto.CheckSessionKey(sessionKey); err != nil {
		return request{}, fmt.Errorf("wxauth: %s: %w", op, err)
	}
	sig := crypto.SessionKeySignature(sessionKey)
	return request{
		op:     op,
		method: http.MethodGet,
		path:   path,
		query: map[string]string{
			"openid":     openID,
			"signature":  sig,
			"sig_method": "hmac_sha256",
		},
		secrets: []string{sessionKey, sig},
	}, nil
}

// CheckSessionKey asks WeChat whether sessionKey is still the valid
// session_key of the user openID (GET /wxa/checksession). It returns nil when
// it is, and an error matching [ErrSessionKeyExpired] (errcode 87009) when it
// is not, usually because the user logged in again: the client should call
// wx.login and log in anew.
//
// The session_key is not sent, only its HMAC-SHA256 signature. An openid
// that is empty, over [MaxOpenIDLen] bytes or not printable ASCII is
// [ErrInvalidOpenID], and a session_key that is not base64 of 16 bytes is
// [crypto.ErrInvalidSessionKey], both without a request.
func (a *App) CheckSessionKey(ctx context.Context, openID, sessionKey string) error {
	req, err := sessionKeyRequest("checksession", "/wxa/checksession", openID, sessionKey)
	if err != nil {
		return err
	}
	var r baseReply
	return a.callWithToken(ctx, req, &r)
}

type resetReply struct {
	baseReply
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
}

// ResetSessionKey makes WeChat replace the session_key of the user openID
// (GET /wxa/resetusersessionkey), whose current key is sessionKey, and
// returns the new one in a [Session] of this app (its Platform and AppID
// set, without UnionID), ready for session.Manager.Issue. The old key stops
// working; the new one keeps the old one's expiry. WeChat refuses frequent
// resets of one user. A sessionKey that is no longer valid is
// [ErrSessionKeyExpired]; invalid arguments are refused as by
// [App.CheckSessionKey].
func (a *App) ResetSessionKey(ctx context.Context, openID, sessionKey string) (*Session, error) {
	const op = "resetusersessionkey"
	req, err := sessionKeyRequest(op, "/wxa/resetusersessionkey", openID, sessionKey)
	if err != nil {
		return nil, err
	}
	var r resetReply
	if err := a.callWithToken(ctx, req, &r); err != nil {
		return nil, err
	}
	if r.OpenID != "" && r.OpenID != openID {
		return nil, badReply(op, "for another openid")
	}
	if crypto.CheckSessionKey(r.SessionKey) != nil {
		return nil, badReply(op, "no valid session_key")
	}
	return &Session{Platform: miniauth.WeChat, AppID: a.appID, OpenID: openID, SessionKey: r.SessionKey}, nil
}
