package qqauth

// This file is QQ's access-token cache: the classic rule (every getToken
// issues a new token and retires the previous one), so one fetch at a time
// per process and, through the token store's lock, per fleet, and none
// without the store. It stands in for the shared engine's token cache until
// that cache serves classic tokens.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxmp/miniauth/internal/engine"
	"github.com/wxmp/miniauth/wxauth"
)

// Token rules.
const (
	// maxTokenLen caps an access_token taken from a reply or a store (QQ
	// asks for 512 bytes to be reserved).
	maxTokenLen = 2048
	// maxExpiresIn caps the lifetime taken from a reply (QQ's is 7200 s).
	maxExpiresIn = 24 * 60 * 60
	// maxRefreshMargin is the most time before expiry at which a token is
	// replaced; it is a fifth of its lifetime when that is shorter.
	maxRefreshMargin = 5 * time.Minute
	// tokenPoll is the wait between looks at the store while another
	// instance fetches (plus up to as much again of jitter).
	tokenPoll = 50 * time.Millisecond
)

// AccessToken returns the app's access token, for QQ APIs this package does
// not wrap (GET /api/getToken,
// https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_use.html).
// A cached token costs no request. A fifth of its lifetime (at most five
// minutes) before it expires, one call fetches the next while the others
// keep the current one; without a valid token, concurrent callers wait for
// one single fetch, each at most until its ctx is done.
//
// QQ retires the previous token whenever it issues one, so a fleet must
// share one [wxauth.TokenStore] ([WithTokenStore]): one instance fetches
// under the store's lock, the others read. When the store fails, nothing is
// fetched and the error is returned.
//
// When QQ refuses the token (errcode 40001, 40014, 42001), report it with
// [App.InvalidateAccessToken] before asking for a new one.
func (a *App) AccessToken(ctx context.Context) (string, error) {
	return a.tokens.get(ctx)
}

// InvalidateAccessToken tells the client that QQ refused accessToken. It is
// dropped from memory and from the store, but only if it is still the
// current token there: a newer one that another instance fetched stays.
func (a *App) InvalidateAccessToken(ctx context.Context, accessToken string) {
	a.tokens.invalidate(ctx, accessToken)
}

type tokenReply struct {
	baseReply
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"`
}

// fetchToken calls GET /api/getToken.
func (a *App) fetchToken(ctx context.Context) (*wxauth.Token, error) {
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
	if !validToken(r.AccessToken) {
		return nil, a.eng.BadReply(opToken, "no usable access_token")
	}
	if r.ExpiresIn == nil || *r.ExpiresIn < 0 || *r.ExpiresIn > maxExpiresIn {
		return nil, a.eng.BadReply(opToken, "no usable expires_in")
	}
	now := a.cfg.now()
	life := time.Duration(max(*r.ExpiresIn, 1)) * time.Second
	return &wxauth.Token{AccessToken: r.AccessToken, IssuedAt: now, ExpiresAt: now.Add(life)}, nil
}

// validToken reports whether tok may be used as an access token.
func validToken(tok string) bool {
	return tok != "" && len(tok) <= maxTokenLen && printableASCII(tok)
}

// cached is an immutable snapshot of the current token.
type cached struct {
	token     string
	refreshAt time.Time
	expiresAt time.Time
}

func newCached(t *wxauth.Token, now time.Time) *cached {
	issued := t.IssuedAt
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	margin := max(min(t.ExpiresAt.Sub(issued)/5, maxRefreshMargin), 0)
	return &cached{token: t.AccessToken, refreshAt: t.ExpiresAt.Add(-margin), expiresAt: t.ExpiresAt}
}

// flight is one refresh in progress; done is closed once tok or err is set.
type flight struct {
	done chan struct{}
	tok  *cached
	err  error
}

// tokenCache keeps one app's token in memory, shares it through a store and
// lets one refresh run at a time.
type tokenCache struct {
	a       *App
	store   wxauth.TokenStore
	lockTTL time.Duration // the store's lock; the fetch ends before it expires
	budget  time.Duration // bound of one whole refresh, waiting included

	cur atomic.Pointer[cached]

	mu  sync.Mutex
	fl  *flight
	bad string // the last token QQ refused: never taken from the store again
}

func newTokenCache(a *App) *tokenCache {
	store := a.cfg.tokenStore
	if store == nil {
		store = wxauth.NewMemoryTokenStore()
	}
	n := time.Duration(a.cfg.retries)
	fetch := a.cfg.timeout*(n+1) + a.cfg.backoffLimit*n
	lockTTL := fetch + 2*min(fetch/10, time.Second)
	return &tokenCache{a: a, store: store, lockTTL: lockTTL, budget: 2*lockTTL + time.Second}
}

func (c *tokenCache) now() time.Time { return c.a.cfg.now() }

// get returns a valid token: the cached one, or one refresh's for all.
func (c *tokenCache) get(ctx context.Context) (string, error) {
	if t := c.cur.Load(); t != nil && c.now().Before(t.refreshAt) {
		return t.token, nil
	}
	c.mu.Lock()
	now := c.now()
	t := c.cur.Load()
	if t != nil && now.Before(t.refreshAt) {
		c.mu.Unlock()
		return t.token, nil
	}
	f := c.fl
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.fl = f
		// The refresh outlives the caller that started it: the others
		// wait for it and its token serves later calls.
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()
	if t != nil && now.Before(t.expiresAt) {
		return t.token, nil // due, not expired: served while the refresh runs
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return "", fmt.Errorf("qqauth: access token: %w", ctx.Err())
	}
	if f.err != nil {
		return "", f.err
	}
	return f.tok.token, nil
}

// run performs one refresh and hands its result to everyone waiting on f.
func (c *tokenCache) run(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, c.budget)
	defer cancel()
	tok, err := c.refresh(ctx)
	c.mu.Lock()
	if err != nil {
		c.a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "qqauth: access token refresh failed", slog.String("error", err.Error()))
	} else if tok.token != c.bad {
		c.cur.Store(tok)
	}
	c.fl = nil
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// refresh takes a fresh token from the store, or fetches one under the
// store's lock, or waits for the instance that holds it. A failing store
// fails the refresh: a fetch of one instance would knock out the token of
// every other.
func (c *tokenCache) refresh(ctx context.Context) (*cached, error) {
	c.mu.Lock()
	bad := c.bad
	c.mu.Unlock()
	for {
		tok, err := c.store.Load(ctx, c.a.appID)
		if err != nil {
			return nil, fmt.Errorf("qqauth: access token: token store load failed, and QQ's token is not fetched without it: %w", err)
		}
		if t := c.usable(tok, bad); t != nil {
			return t, nil
		}
		heldUntil := time.Now().Add(c.lockTTL)
		lease, ok, err := c.store.TryLock(ctx, c.a.appID, c.lockTTL)
		if err != nil {
			return nil, fmt.Errorf("qqauth: access token: token store lock failed, and QQ's token is not fetched without it: %w", err)
		}
		if ok {
			return c.fetchLocked(ctx, lease, heldUntil, bad)
		}
		t := time.NewTimer(tokenPoll + rand.N(tokenPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("qqauth: access token: waiting for another instance to fetch it: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// fetchLocked fetches a token under the store's lock and saves it through
// the lease, all before the lock expires.
func (c *tokenCache) fetchLocked(ctx context.Context, lease wxauth.TokenLease, heldUntil time.Time, bad string) (*cached, error) {
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = lease.Unlock(uctx)
	}()
	margin := min(c.lockTTL/10, time.Second)
	fctx, cancel := context.WithDeadline(ctx, heldUntil.Add(-2*margin))
	defer cancel()
	if tok, err := c.store.Load(fctx, c.a.appID); err == nil {
		if t := c.usable(tok, bad); t != nil {
			return t, nil
		}
	}
	tok, err := c.a.fetchToken(fctx)
	if err != nil {
		return nil, err
	}
	sctx, scancel := context.WithDeadline(ctx, heldUntil.Add(-margin))
	defer scancel()
	if err := lease.Save(sctx, tok); err != nil {
		msg := "qqauth: access token: sharing it through the store failed"
		if errors.Is(err, wxauth.ErrLeaseLost) {
			msg = "qqauth: access token: the store lock expired before the token was saved; not shared"
		}
		c.a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("error", err.Error()))
	}
	return newCached(tok, c.now()), nil
}

// usable returns tok as a cache entry if it can be used and is not due.
func (c *tokenCache) usable(tok *wxauth.Token, bad string) *cached {
	if tok == nil || !validToken(tok.AccessToken) || tok.AccessToken == bad || tok.ExpiresAt.IsZero() {
		return nil
	}
	now := c.now()
	t := newCached(tok, now)
	if !now.Before(t.refreshAt) {
		return nil
	}
	return t
}

// invalidate drops tok from memory and, if it is still there, the store.
func (c *tokenCache) invalidate(ctx context.Context, tok string) {
	if tok == "" {
		return
	}
	c.mu.Lock()
	first := c.bad != tok
	c.bad = tok
	if t := c.cur.Load(); t != nil && t.token == tok {
		c.cur.Store(nil)
	}
	c.mu.Unlock()
	if !first {
		return
	}
	if err := c.store.Delete(ctx, c.a.appID, tok); err != nil {
		c.a.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "qqauth: access token: deleting a refused token from the store failed", slog.String("error", err.Error()))
	}
}
