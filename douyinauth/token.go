package douyinauth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wxmp/miniauth/internal/engine"
)

// This file holds the client_token that get_phonenumber_info carries: its
// fetch and a cache of it in memory. The cache is one per App, single
// flight, and stands alone so that it can give way to a shared token cache
// in internal/engine (with a fleet lock on a token store) when the engine
// has one; today it has the request loop only.
//
// Renewal rule, from
// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-client_token:
// a client_token lives 2 hours; fetching a new one shortens the previous one
// to 5 minutes, and only the two newest stay valid. So the cache fetches a
// new token a fifth of its lifetime before expiry, at most 4 min 50 s
// before (the old one then stays valid to its own expiry, under the 5
// minutes it is cut to), and keeps serving the old one while the new one is
// fetched. A stable_client_token is the same token until it expires: a
// refetch that returns the cached token keeps it to its expiry.

// maxRefreshMargin is the most time before expiry at which a cached token is
// replaced.
const maxRefreshMargin = 5*time.Minute - 10*time.Second

// retryGap is how long after a failed fetch no other is started while the
// cached token is still valid: a fetch that fails in the background (Douyin
// down, the secret revoked) is not repeated at every call, which would run
// into client_token's rate limit (10020: over 500 calls in 5 minutes).
const retryGap = 10 * time.Second

// cachedToken is an immutable snapshot of the current token.
type cachedToken struct {
	token     string
	refreshAt time.Time // from here on, fetch a replacement
	expiresAt time.Time // from here on, do not use it
}

// flight is one fetch in progress; done is closed when tok or err is set.
type flight struct {
	done chan struct{}
	tok  *cachedToken
	err  error
}

// tokenCache caches one app's client_token and makes sure that at most one
// fetch is in flight.
type tokenCache struct {
	fetch func(ctx context.Context) (token string, expiresIn time.Duration, err error)
	now   func() time.Time
	// budget bounds one fetch, retries included: a fetch runs on for the
	// other waiters when the caller that started it gives up.
	budget time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	cur     *cachedToken
	fl      *flight
	retryAt time.Time // no background fetch before this, after one failed
}

// get returns a valid token: the cached one, or one fetched now (every
// concurrent caller waits for the same fetch, each until its own ctx is
// done). A token that is due but valid is returned at once while a fetch
// runs in the background.
func (c *tokenCache) get(ctx context.Context) (string, error) {
	c.mu.Lock()
	now := c.now()
	cur := c.cur
	valid := cur != nil && now.Before(cur.expiresAt)
	if valid && (now.Before(cur.refreshAt) || (c.fl == nil && now.Before(c.retryAt))) {
		c.mu.Unlock()
		return cur.token, nil
	}
	fl := c.startLocked(ctx)
	c.mu.Unlock()
	if valid {
		return cur.token, nil // the fetch runs on in the background
	}
	select {
	case <-fl.done:
		if fl.err != nil {
			return "", fl.err
		}
		return fl.tok.token, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// startLocked returns the fetch in flight, starting one if there is none.
// c.mu must be held.
func (c *tokenCache) startLocked(ctx context.Context) *flight {
	if c.fl != nil {
		return c.fl
	}
	fl := &flight{done: make(chan struct{})}
	c.fl = fl
	// The fetch serves every waiter: it keeps the values of ctx (tracing)
	// but not its cancellation, and has a budget of its own.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.budget)
	go func() {
		defer cancel()
		tok, in, err := c.fetch(fctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.fl = nil
		if err != nil {
			fl.err = err
			c.retryAt = c.now().Add(retryGap)
			c.log.LogAttrs(fctx, slog.LevelWarn, "douyinauth: client_token fetch failed", slog.String("error", err.Error()))
		} else {
			now := c.now()
			ct := &cachedToken{token: tok, expiresAt: now.Add(in)}
			if c.cur != nil && c.cur.token == tok {
				// A stable token handed back unchanged: keep it to its
				// expiry instead of asking again at every call.
				ct.refreshAt = ct.expiresAt
			} else {
				ct.refreshAt = ct.expiresAt.Add(-min(in/5, maxRefreshMargin))
			}
			c.cur = ct
			fl.tok = ct
		}
		close(fl.done)
	}()
	return fl
}

// invalidate drops tok, which Douyin refused, if it is still the cached
// token: a newer one fetched meanwhile stays.
func (c *tokenCache) invalidate(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.token == tok {
		c.cur = nil
	}
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
