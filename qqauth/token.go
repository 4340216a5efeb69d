package qqauth

import (
	"context"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// maxExpiresIn caps the lifetime taken from a reply (QQ's is 7200 s).
const maxExpiresIn = 24 * 60 * 60

// AccessToken returns the app's access token, for QQ APIs this package does
// not wrap (GET /api/getToken,
// https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_use.html).
// A cached token costs no request. A fifth of its lifetime (at most five
// minutes) before it expires, one call fetches the next while the others
// keep the current one; without a valid token, concurrent callers wait for
// one single fetch, each at most until its ctx is done.
//
// QQ retires the previous token whenever it issues one (the old one keeps
// working for five minutes: "在刷新过程中 … 公众平台后台会保证在5分钟内，新老
// access_token 都可用", the getAccessToken page as copied at
// https://w3cschool.cn/qqxiaochengxu/qqxiaochengxu-hxzc3874.html), so a
// fleet must share one [miniauth.TokenStore] ([WithTokenStore]): one instance fetches
// under the store's lock, the others read. When the store fails, nothing is
// fetched and the error is returned.
//
// When QQ refuses the token (errcode 40001, 40014, 42001), report it with
// [App.InvalidateAccessToken] before asking for a new one.
func (a *App) AccessToken(ctx context.Context) (string, error) {
	return a.tokens.Get(ctx)
}

// InvalidateAccessToken tells the client that QQ refused accessToken. It is
// dropped from memory and from the store, but only if it is still the
// current token there: a newer one that another instance fetched stays.
func (a *App) InvalidateAccessToken(ctx context.Context, accessToken string) {
	a.tokens.Invalidate(ctx, accessToken)
}

// newTokenCache builds a's token cache: QQ's classic rule, so the cache
// fails closed when the store does.
func newTokenCache(a *App) (*engine.TokenCache, error) {
	return a.eng.NewTokenCache(engine.TokenConfig{
		Key:        "qq:" + a.appID, // one store serves every platform: keys must not collide
		Source:     engine.TokenSourceFunc(a.fetchToken),
		Store:      a.cfg.TokenStore,
		Margin:     engine.MarginUpTo(5 * time.Minute),
		FailClosed: true,
		RetryGap:   engine.RefreshRetryGap,
		Now:        a.cfg.Now,
	})
}

type tokenReply struct {
	baseReply
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"`
}

// fetchToken calls GET /api/getToken.
func (a *App) fetchToken(ctx context.Context) (*miniauth.Token, error) {
	var r tokenReply
	err := a.do(ctx, engine.Request{
		Op:     opToken,
		Method: http.MethodGet,
		Path:   "/api/getToken",
		Query:  map[string]string{"grant_type": "client_credential", "appid": a.appID, "secret": a.secret},
	}, &r)
	if err != nil {
		return nil, err
	}
	if !engine.ValidToken(r.AccessToken) {
		return nil, a.eng.BadReply(opToken, "no usable access_token")
	}
	if r.ExpiresIn == nil || *r.ExpiresIn < 0 || *r.ExpiresIn > maxExpiresIn {
		return nil, a.eng.BadReply(opToken, "no usable expires_in")
	}
	now := a.cfg.Now()
	life := time.Duration(max(*r.ExpiresIn, 1)) * time.Second
	return &miniauth.Token{AccessToken: r.AccessToken, IssuedAt: now, ExpiresAt: now.Add(life)}, nil
}
