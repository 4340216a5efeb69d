package wecomauth

import (
	"context"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// maxExpiresIn caps the lifetime taken from a reply (WeCom's is 7200 s).
const maxExpiresIn = 24 * 60 * 60

// AccessToken returns the corp access token of the mini-program's WeCom
// app (GET /cgi-bin/gettoken?corpid&corpsecret,
// https://developer.work.weixin.qq.com/document/path/91039), for WeCom APIs
// this package does not wrap. It lives 7200 s ("正常情况下为7200秒", the
// page today), and WeCom hands out the same token until then (older copies
// of the page said so: "有效期内重复获取返回相同结果"; today's no longer
// does, and the client relies on it nowhere: it refetches on 40014 and
// 42001). A cached token costs no request; a fifth of its
// lifetime (at most five minutes) before it expires, one call fetches the
// next while the others keep the current one; without a valid token,
// concurrent callers wait for one single fetch, each at most until its ctx
// is done. A fleet shares it through [WithTokenStore].
//
// When WeCom refuses the token (errcode 40014, 42001), report it with
// [App.InvalidateAccessToken]; [App.Code2Session] does so by itself.
func (a *App) AccessToken(ctx context.Context) (string, error) {
	return a.tokens.Get(ctx)
}

// InvalidateAccessToken tells the client that WeCom refused accessToken.
// It is dropped from memory and from the store, if it is still the current
// token there.
func (a *App) InvalidateAccessToken(ctx context.Context, accessToken string) {
	a.tokens.Invalidate(ctx, accessToken)
}

// newTokenCache builds a's token cache, keyed by corp and appid.
func newTokenCache(a *App) (*engine.TokenCache, error) {
	return a.eng.NewTokenCache(engine.TokenConfig{
		Key:      "wecom:" + a.corpID + ":" + a.appID, // one store serves every platform: keys must not collide
		Source:   engine.TokenSourceFunc(a.fetchToken),
		Store:    a.cfg.TokenStore,
		Margin:   engine.MarginUpTo(5 * time.Minute),
		RetryGap: engine.RefreshRetryGap,
		Now:      a.cfg.Now,
	})
}

type tokenReply struct {
	baseReply
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"`
}

// fetchToken calls GET /cgi-bin/gettoken.
func (a *App) fetchToken(ctx context.Context) (*miniauth.Token, error) {
	var r tokenReply
	err := a.do(ctx, engine.Request{
		Op:     opToken,
		Method: http.MethodGet,
		Path:   "/cgi-bin/gettoken",
		Query:  map[string]string{"corpid": a.corpID, "corpsecret": a.corpSecret},
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
