package douyinauth

import (
	"context"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// This file holds the client_token that get_phonenumber_info carries: its
// fetch and the App's cache of it, the engine's token cache (single flight,
// a fleet lock on a miniauth.TokenStore: [WithTokenStore]).
//
// Renewal rule, from
// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-client_token:
// a client_token lives 2 hours; fetching a new one shortens the previous one
// to 5 minutes, and only the two newest stay valid. So the cache fetches a
// new token a fifth of its lifetime before expiry, at most 4 min 50 s
// before (engine.DefaultMargin: the old one then stays valid to its own
// expiry, under the 5 minutes it is cut to), and keeps serving the old one
// while the new one is fetched. Because a fetch cuts the others' token and
// only two stay valid, a plain client_token fails closed when the shared
// store fails (instances fetching on their own would knock each other
// out); a stable_client_token is the same token for every caller until it
// expires, so it is fetched directly then. A stable token handed back
// unchanged while due is kept, and asked for again at most every half of
// its remaining life (at least 10 s), not at every call.

// newTokenCache builds a's client_token cache, keyed "douyin:" and the
// appid in the store so that one store serves every platform.
func newTokenCache(a *App) (*engine.TokenCache, error) {
	return a.eng.NewTokenCache(engine.TokenConfig{
		Key:        "douyin:" + a.appID,
		Source:     engine.TokenSourceFunc(a.clientToken),
		Store:      a.cfg.TokenStore,
		FailClosed: !a.cfg.stableToken,
		RetryGap:   engine.RefreshRetryGap,
		Now:        a.cfg.Now,
	})
}

// clientToken is fetchToken as a miniauth.Token, for the cache.
func (a *App) clientToken(ctx context.Context) (*miniauth.Token, error) {
	tok, life, err := a.fetchToken(ctx)
	if err != nil {
		return nil, err
	}
	now := a.cfg.Now()
	return &miniauth.Token{AccessToken: tok, IssuedAt: now, ExpiresAt: now.Add(life)}, nil
}

// clientTokenBody is the JSON body of client_token and stable_client_token.
type clientTokenBody struct {
	ClientKey    string `json:"client_key"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
}

// clientTokenReply is open.douyin.com's oauth envelope:
// {data: {access_token, description, error_code, expires_in}, message,
// extra: {logid}}, the error's code and text inside data.
type clientTokenReply struct {
	Data struct {
		AccessToken string `json:"access_token"`
		Description string `json:"description"`
		ErrorCode   errNo  `json:"error_code"`
		ExpiresIn   errNo  `json:"expires_in"`
	} `json:"data"`
	Message string `json:"message"`
	Extra   struct {
		LogID string `json:"logid"`
	} `json:"extra"`
}

// Failed reports a non-zero data.error_code.
func (r *clientTokenReply) Failed() bool { return r.Data.ErrorCode != 0 }

// Err returns the reply's *APIError.
func (r *clientTokenReply) Err(op string, s engine.Scrubber) (bool, error) {
	return apiError(op, int64(r.Data.ErrorCode), r.Data.Description, r.Extra.LogID, s)
}

// maxTokenLen caps the token accepted from a reply.
const maxTokenLen = 512

// fetchToken fetches a client_token (POST /oauth/client_token/, or
// /oauth/stable_client_token/ with [WithStableClientToken]).
func (a *App) fetchToken(ctx context.Context) (string, time.Duration, error) {
	op, path := opClientToken, "/oauth/client_token/"
	if a.cfg.stableToken {
		op, path = opStableToken, "/oauth/stable_client_token/"
	}
	var r clientTokenReply
	err := a.do(ctx, request{
		op:   op,
		base: a.cfg.openURL,
		path: path,
		body: clientTokenBody{ClientKey: a.appID, ClientSecret: a.secret, GrantType: "client_credential"},
	}, &r)
	if err != nil {
		return "", 0, err
	}
	tok := r.Data.AccessToken
	if tok == "" || len(tok) > maxTokenLen || !printableASCII(tok) {
		return "", 0, a.eng.BadReply(op, "no usable access_token")
	}
	if r.Data.ExpiresIn <= 0 {
		return "", 0, a.eng.BadReply(op, "no positive expires_in")
	}
	return tok, time.Duration(r.Data.ExpiresIn) * time.Second, nil
}
