package kuaishouauth

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// maxExpiresIn caps the lifetime taken from a reply at the 48 hours
// Kuaishou's page states ("access_token48小时内有效",
// https://mp.kuaishou.com/docs/develop/server/getAccessToken.html). The same
// page's field table gives 3600000 as an example of expires_in: a reply
// that says more than 48 hours is taken as 48, not refused, so that such a
// value cannot stop every call that needs the token.
const maxExpiresIn = 48 * 60 * 60

// AccessToken returns the app's access token, for Kuaishou APIs this
// package does not wrap: POST /oauth2/access_token with the form app_id,
// app_secret and grant_type=client_credentials
// (https://mp.kuaishou.com/docs/develop/server/getAccessToken.html). A
// token lives 48 hours, and one fetched meanwhile does not retire it. A
// cached token costs no request; a fifth of its lifetime (at most 30
// minutes) before it expires, one call fetches the next while the others
// keep the current one; without a valid token, concurrent callers wait for
// one single fetch, each at most until its ctx is done. A fleet shares it
// through [WithTokenStore].
//
// When Kuaishou refuses the token (result 100200102 or 100200108), report
// it with [App.InvalidateAccessToken] before asking for a new one.
func (a *App) AccessToken(ctx context.Context) (string, error) {
	return a.tokens.Get(ctx)
}

// InvalidateAccessToken tells the client that Kuaishou refused
// accessToken. It is dropped from memory and from the store, if it is
// still the current token there.
func (a *App) InvalidateAccessToken(ctx context.Context, accessToken string) {
	a.tokens.Invalidate(ctx, accessToken)
}

// newTokenCache builds a's token cache. Old tokens stay valid, so a failing
// store does not stop a fetch.
func newTokenCache(a *App) (*engine.TokenCache, error) {
	return a.eng.NewTokenCache(engine.TokenConfig{
		Key:      "kuaishou:" + a.appID, // one store serves every platform: keys must not collide
		Source:   engine.TokenSourceFunc(a.fetchToken),
		Store:    a.cfg.TokenStore,
		Margin:   engine.MarginUpTo(30 * time.Minute),
		RetryGap: engine.RefreshRetryGap,
		Now:      a.cfg.Now,
	})
}

type tokenReply struct {
	baseReply
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// fetchToken calls POST /oauth2/access_token.
func (a *App) fetchToken(ctx context.Context) (*miniauth.Token, error) {
	var r tokenReply
	err := a.do(ctx, engine.Request{
		Op:     opToken,
		Method: http.MethodPost,
		Path:   "/oauth2/access_token",
		Form:   url.Values{"app_id": {a.appID}, "app_secret": {a.secret}, "grant_type": {"client_credentials"}},
	}, &r)
	if err != nil {
		return nil, err
	}
	if !engine.ValidToken(r.AccessToken) {
		return nil, a.eng.BadReply(opToken, "no usable access_token")
	}
	if r.ExpiresIn == nil || *r.ExpiresIn < 0 {
		return nil, a.eng.BadReply(opToken, "no usable expires_in")
	}
	now := a.cfg.Now()
	life := time.Duration(min(max(*r.ExpiresIn, 1), maxExpiresIn)) * time.Second
	return &miniauth.Token{AccessToken: r.AccessToken, IssuedAt: now, ExpiresAt: now.Add(life)}, nil
}
