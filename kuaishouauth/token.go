package kuaishouauth

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/wxmp/miniauth/internal/engine"
	"github.com/wxmp/miniauth/internal/tokencache"
	"github.com/wxmp/miniauth/wxauth"
)

// maxExpiresIn caps the lifetime taken from a reply (Kuaishou's is 48 h).
const maxExpiresIn = 7 * 24 * 60 * 60

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
func newTokenCache(a *App) *tokencache.Cache {
	n := time.Duration(a.cfg.retries)
	return tokencache.New(tokencache.Config{
		Package:    "kuaishouauth",
		AppID:      "kuaishou:" + a.appID, // one store may serve several platforms: keys must not collide
		Store:      a.cfg.tokenStore,
		Fetch:      a.fetchToken,
		MaxMargin:  30 * time.Minute,
		FetchBound: a.cfg.timeout*(n+1) + a.cfg.backoffLimit*n,
		Now:        a.cfg.now,
		Logger:     a.cfg.logger,
	})
}

type tokenReply struct {
	baseReply
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// fetchToken calls POST /oauth2/access_token.
func (a *App) fetchToken(ctx context.Context) (*wxauth.Token, error) {
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
	if !tokencache.Valid(r.AccessToken) {
		return nil, a.eng.BadReply(opToken, "no usable access_token")
	}
	if r.ExpiresIn == nil || *r.ExpiresIn < 0 || *r.ExpiresIn > maxExpiresIn {
		return nil, a.eng.BadReply(opToken, "no usable expires_in")
	}
	now := a.cfg.now()
	life := time.Duration(max(*r.ExpiresIn, 1)) * time.Second
	return &wxauth.Token{AccessToken: r.AccessToken, IssuedAt: now, ExpiresAt: now.Add(life)}, nil
}
