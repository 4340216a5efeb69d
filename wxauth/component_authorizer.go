package wxauth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// AuthorizerApp is the client of a mini-program that authorized a
// [Component] (an authorizer), as [Component.App] returns it: a
// [miniauth.Client] of platform WeChat whose calls go through the
// component's credentials, never a secret of the mini-program's own. It is
// safe for concurrent use, and cheap: make one per request.
type AuthorizerApp struct {
	c *Component
	// shell is an App of the authorizer's appid for the calls that need no
	// request (Decrypt, VerifySignature). Calls that need the authorizer's
	// access token use the component's cached client of the appid.
	shell *App
}

var (
	_ miniauth.Client            = (*AuthorizerApp)(nil)
	_ miniauth.Apps              = (*AuthorizerApp)(nil)
	_ miniauth.Decrypter         = (*AuthorizerApp)(nil)
	_ miniauth.SignatureVerifier = (*AuthorizerApp)(nil)
	_ miniauth.PhoneExchanger    = (*AuthorizerApp)(nil)
)

// Format prints "wxauth.AuthorizerApp{AppID: ..., Component: ...}" whatever
// the verb: fmt would otherwise print the component it points to, secrets
// included, under a verb such as %s.
func (a AuthorizerApp) Format(f fmt.State, verb rune) {
	if a.shell == nil || a.c == nil { // the zero value: not made by Component.App
		_, _ = io.WriteString(f, "wxauth.AuthorizerApp{}")
		return
	}
	_, _ = fmt.Fprintf(f, "wxauth.AuthorizerApp{AppID: %q, Component: %q}", a.shell.appID, a.c.appID)
}

// Platform returns [miniauth.WeChat].
func (a *AuthorizerApp) Platform() miniauth.Platform { return miniauth.WeChat }

// AppID returns the mini-program's appid.
func (a *AuthorizerApp) AppID() string { return a.shell.appID }

// App makes an AuthorizerApp the [miniauth.Apps] of its one mini-program.
func (a *AuthorizerApp) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

// Code2Session exchanges the code from the mini-program's wx.login for the
// user's [Session], with the component's token (GET
// /sns/component/jscode2session,
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/others/WeChat_login.html).
// The session is the mini-program's: its AppID is the authorizer's appid.
//
// Errors are those of [App.Code2Session]; besides, an app that has not
// authorized the component (errcode 61003) matches [ErrUnknownApp], and a
// component without a valid ticket [ErrNoTicket]. A component token that
// WeChat refuses is dropped and the call retried once with a new one.
func (a *AuthorizerApp) Code2Session(ctx context.Context, code string) (*Session, error) {
	const op = "component/jscode2session"
	if err := checkCode(op, code); err != nil {
		return nil, err
	}
	c := a.c
	var r code2SessionReply
	err := c.call(ctx, request{
		op:     op,
		method: http.MethodGet,
		path:   "/sns/component/jscode2session",
		query: map[string]string{
			"appid":           a.shell.appID,
			"js_code":         code,
			"grant_type":      "authorization_code",
			"component_appid": c.appID,
		},
		secrets: []string{code},
	}, &r)
	if err != nil {
		return nil, err
	}
	if !validID(r.OpenID) {
		return nil, badReply(op, "no usable openid")
	}
	if r.UnionID != "" && !validID(r.UnionID) {
		return nil, badReply(op, "unusable unionid")
	}
	if crypto.CheckSessionKey(r.SessionKey) != nil {
		return nil, badReply(op, "no valid session_key")
	}
	return &Session{Platform: miniauth.WeChat, AppID: a.shell.appID, OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
}

// VerifySignature is [App.VerifySignature].
func (a *AuthorizerApp) VerifySignature(sessionKey, rawData, signature string) error {
	return a.shell.VerifySignature(sessionKey, rawData, signature)
}

// Decrypt is [App.Decrypt]: the watermark must name the mini-program.
func (a *AuthorizerApp) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	return a.shell.Decrypt(sessionKey, encryptedData, iv, v)
}

// AccessToken returns the mini-program's authorizer_access_token, minted
// with the component's token from its refresh token ([WithRefreshTokens])
// and cached and shared through the component's [TokenStore] as
// [App.AccessToken] is. It is the access_token of the mini-program's APIs
// when the component calls them on its behalf. Without a refresh token it
// fails with [ErrNoRefreshToken].
func (a *AuthorizerApp) AccessToken(ctx context.Context) (string, error) {
	app, err := a.c.authorizerApp(ctx, a.shell.appID)
	if err != nil {
		return "", err
	}
	return app.AccessToken(ctx)
}

// InvalidateAccessToken tells the client that WeChat refused the
// authorizer_access_token accessToken, as [App.InvalidateAccessToken] does.
func (a *AuthorizerApp) InvalidateAccessToken(ctx context.Context, accessToken string) {
	a.c.st.mu.Lock()
	app := a.c.st.authorizers[a.shell.appID]
	a.c.st.mu.Unlock()
	if app != nil {
		app.InvalidateAccessToken(ctx, accessToken)
	}
}

// GetPhoneNumber is [App.GetPhoneNumber] for the mini-program, with its
// authorizer_access_token (see [AuthorizerApp.AccessToken]): it exchanges
// the phone-number button's code for the user's number. Pass [ForOpenID]
// with the session's openid.
func (a *AuthorizerApp) GetPhoneNumber(ctx context.Context, code string, opts ...PhoneOption) (*PhoneNumber, error) {
	if err := checkCode(opGetPhoneNumber, code); err != nil {
		return nil, err
	}
	app, err := a.c.authorizerApp(ctx, a.shell.appID)
	if err != nil {
		return nil, err
	}
	return app.GetPhoneNumber(ctx, code, opts...)
}

// Authorization is what [Component.QueryAuth] returns: the mini-program
// that authorized the component and its authorizer_refresh_token. Its
// Format (every fmt verb), LogValue and encoding/json leave the token out.
type Authorization struct {
	// AuthorizerAppID is the appid of the mini-program.
	AuthorizerAppID string `json:"authorizer_appid"`
	// RefreshToken is the authorizer_refresh_token: keep it in your
	// database (a [RefreshTokenStore] serves it back to the component). It
	// is never printed, logged or marshalled.
	RefreshToken string `json:"-"`
}

// Format prints the authorization without its refresh token, whatever the
// verb.
func (a Authorization) Format(f fmt.State, verb rune) {
	_, _ = fmt.Fprintf(f, "wxauth.Authorization{AuthorizerAppID: %q}", a.AuthorizerAppID)
}

// LogValue returns the authorization for log/slog without its refresh token.
func (a Authorization) LogValue() slog.Value {
	return slog.GroupValue(slog.String("authorizer_appid", a.AuthorizerAppID))
}

// maxAuthCodeLen caps an authorization code sent to WeChat (real ones are
// about 100 bytes: "queryauthcode@@@...").
const maxAuthCodeLen = 512

type queryAuthBody struct {
	ComponentAppID    string `json:"component_appid"`
	AuthorizationCode string `json:"authorization_code"`
}

type queryAuthReply struct {
	baseReply
	Info *struct {
		AuthorizerAppID string `json:"authorizer_appid"`
		AccessToken     string `json:"authorizer_access_token"`
		ExpiresIn       *int64 `json:"expires_in"`
		RefreshToken    string `json:"authorizer_refresh_token"`
	} `json:"authorization_info"`
}

// QueryAuth exchanges the authorization code of an authorized or
// updateauthorized event ([ComponentEvent].AuthorizationCode), or of the
// authorization page's redirect, for the mini-program's appid and
// authorizer_refresh_token (POST /cgi-bin/component/api_query_auth,
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/authorization_info.html).
// With [WithRefreshTokens] the refresh token is also saved there (an error
// saving it is returned with the Authorization). The code works once.
func (c *Component) QueryAuth(ctx context.Context, authorizationCode string) (*Authorization, error) {
	const op = "api_query_auth"
	if authorizationCode == "" || len(authorizationCode) > maxAuthCodeLen || !printableASCII(authorizationCode) {
		return nil, fmt.Errorf("wxauth: %s: authorization code must be 1 to %d bytes of printable ASCII: %w", op, maxAuthCodeLen, ErrInvalidCode)
	}
	var r queryAuthReply
	err := c.call(ctx, request{
		op:      op,
		method:  http.MethodPost,
		path:    "/cgi-bin/component/api_query_auth",
		body:    queryAuthBody{ComponentAppID: c.appID, AuthorizationCode: authorizationCode},
		secrets: []string{authorizationCode},
	}, &r)
	if err != nil {
		return nil, err
	}
	if r.Info == nil || !validAppID(r.Info.AuthorizerAppID) {
		return nil, badReply(op, "no usable authorizer_appid")
	}
	if !validToken(r.Info.RefreshToken) {
		return nil, badReply(op, "no usable authorizer_refresh_token")
	}
	au := &Authorization{AuthorizerAppID: r.Info.AuthorizerAppID, RefreshToken: r.Info.RefreshToken}
	if s := c.opts.refreshTokens; s != nil {
		if err := s.SaveRefreshToken(ctx, au.AuthorizerAppID, au.RefreshToken); err != nil {
			return au, fmt.Errorf("wxauth: %s: saving the refresh token of %q: %w", op, au.AuthorizerAppID, err)
		}
	}
	return au, nil
}
