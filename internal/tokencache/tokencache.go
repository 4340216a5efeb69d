// Package tokencache is the access-token cache of the sibling platform
// clients (qqauth, kuaishouauth, wecomauth): the token kept in memory, one
// fetch at a time per process and, through a wxauth.TokenStore's lock, per
// fleet, renewed a fifth of its lifetime before it expires (at most
// MaxMargin), with the platform's rule for a store that fails: fail closed
// where a fetch retires the token the rest of the fleet holds (QQ's
// classic getToken), fetch directly where it does not (Kuaishou, WeCom).
//
// It stands in for the shared engine's token cache until that one serves
// these rules; its callers reach it through one field each.
package tokencache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxmp/miniauth/wxauth"
)

// Limits of the cache.
const (
	// MaxTokenLen caps an access token taken from a reply or a store.
	MaxTokenLen = 2048
	// tokenPoll is the wait between looks at the store while another
	// instance fetches (plus up to as much again of jitter).
	tokenPoll = 50 * time.Millisecond
	// retryGap is how long after a failed refresh no other starts while
	// the token held is still valid: a platform that is down (or a revoked
	// secret) is not asked again at every call.
	retryGap = 10 * time.Second
)

// Config is what a platform client builds its cache from.
type Config struct {
	// Package prefixes errors and log lines ("qqauth").
	Package string
	// AppID keys the token in the store.
	AppID string
	// Store is where a fleet shares the token (nil: memory of this cache).
	Store wxauth.TokenStore
	// Fetch asks the platform for a new token.
	Fetch func(ctx context.Context) (*wxauth.Token, error)
	// FailClosed: when the store fails, fail instead of fetching (a fetch
	// would retire the token every other instance holds).
	FailClosed bool
	// MaxMargin is the most time before expiry at which a token is renewed
	// (a fifth of its lifetime when that is shorter).
	MaxMargin time.Duration
	// FetchBound bounds one fetch, retries included: the store's lock is
	// held this long plus margins.
	FetchBound time.Duration
	// Now is the clock (nil: time.Now); Logger gets warnings (nil: none).
	Now    func() time.Time
	Logger *slog.Logger
}

// Cache is one app's token. It is safe for concurrent use.
type Cache struct {
	cfg     Config
	lockTTL time.Duration
	budget  time.Duration

	cur atomic.Pointer[cached]

	mu        sync.Mutex
	fl        *flight
	bad       string    // the last token the platform refused: never taken from the store again
	holdUntil time.Time // no background refresh before this (after a failed one)
}

type cached struct {
	token     string
	refreshAt time.Time
	expiresAt time.Time
}

type flight struct {
	done chan struct{}
	tok  *cached
	err  error
}

// New returns an empty cache.
func New(cfg Config) *Cache {
	if cfg.Store == nil {
		cfg.Store = wxauth.NewMemoryTokenStore()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	lockTTL := cfg.FetchBound + 2*min(cfg.FetchBound/10, time.Second)
	return &Cache{cfg: cfg, lockTTL: lockTTL, budget: 2*lockTTL + time.Second}
}

// Valid reports whether tok may be used as an access token: 1 to
// MaxTokenLen bytes of printable ASCII.
func Valid(tok string) bool {
	if tok == "" || len(tok) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x21 || tok[i] > 0x7e {
			return false
		}
	}
	return true
}

func (c *Cache) newCached(t *wxauth.Token, now time.Time) *cached {
	issued := t.IssuedAt
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	margin := max(min(t.ExpiresAt.Sub(issued)/5, c.cfg.MaxMargin), 0)
	return &cached{token: t.AccessToken, refreshAt: t.ExpiresAt.Add(-margin), expiresAt: t.ExpiresAt}
}

// Get returns a valid token: the cached one (no lock, no request), or the
// one a single refresh brings for every caller waiting. A token that is due
// but unexpired is returned while one refresh runs in the background.
func (c *Cache) Get(ctx context.Context) (string, error) {
	if t := c.cur.Load(); t != nil && c.cfg.Now().Before(t.refreshAt) {
		return t.token, nil
	}
	c.mu.Lock()
	now := c.cfg.Now()
	t := c.cur.Load()
	if t != nil && now.Before(t.refreshAt) {
		c.mu.Unlock()
		return t.token, nil
	}
	valid := t != nil && now.Before(t.expiresAt)
	f := c.fl
	if f == nil && valid && now.Before(c.holdUntil) {
		c.mu.Unlock()
		return t.token, nil // a refresh failed a moment ago: serve the token held
	}
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.fl = f
		// The refresh outlives the caller that started it: the others
		// wait for it and its token serves later calls.
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()
	if valid {
		return t.token, nil
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return "", fmt.Errorf("%s: access token: %w", c.cfg.Package, ctx.Err())
	}
	if f.err != nil {
		return "", f.err
	}
	return f.tok.token, nil
}

func (c *Cache) run(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, c.budget)
	defer cancel()
	tok, err := c.refresh(ctx)
	c.mu.Lock()
	if err != nil {
		c.holdUntil = c.cfg.Now().Add(retryGap)
		c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, c.cfg.Package+": access token refresh failed", slog.String("error", err.Error()))
	} else if tok.token != c.bad {
		c.cur.Store(tok)
	}
	c.fl = nil
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// refresh takes a fresh token from the store, or fetches one under the
// store's lock, or waits for the instance that holds it.
func (c *Cache) refresh(ctx context.Context) (*cached, error) {
	c.mu.Lock()
	bad := c.bad
	c.mu.Unlock()
	for {
		tok, err := c.cfg.Store.Load(ctx, c.cfg.AppID)
		if err != nil {
			return c.storeFailed(ctx, "load", err)
		}
		if t := c.usable(tok, bad); t != nil {
			return t, nil
		}
		heldUntil := time.Now().Add(c.lockTTL)
		lease, ok, err := c.cfg.Store.TryLock(ctx, c.cfg.AppID, c.lockTTL)
		if err != nil {
			return c.storeFailed(ctx, "lock", err)
		}
		if ok {
			return c.fetchLocked(ctx, lease, heldUntil, bad)
		}
		t := time.NewTimer(tokenPoll + rand.N(tokenPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: access token: waiting for another instance to fetch it: %w", c.cfg.Package, ctx.Err())
		case <-t.C:
		}
	}
}

// storeFailed fails closed, or fetches directly where the platform keeps
// the other instances' tokens valid.
func (c *Cache) storeFailed(ctx context.Context, step string, err error) (*cached, error) {
	if c.cfg.FailClosed {
		return nil, fmt.Errorf("%s: access token: token store %s failed, and the token is not fetched without it: %w", c.cfg.Package, step, err)
	}
	c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, c.cfg.Package+": access token: token store failed, fetching directly",
		slog.String("step", step), slog.String("error", err.Error()))
	tok, ferr := c.fetch(ctx)
	if ferr != nil {
		return nil, ferr
	}
	return c.newCached(tok, c.cfg.Now()), nil
}

// fetchLocked fetches under the store's lock and saves through the lease,
// all before the lock expires.
func (c *Cache) fetchLocked(ctx context.Context, lease wxauth.TokenLease, heldUntil time.Time, bad string) (*cached, error) {
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = lease.Unlock(uctx)
	}()
	margin := min(c.lockTTL/10, time.Second)
	fctx, cancel := context.WithDeadline(ctx, heldUntil.Add(-2*margin))
	defer cancel()
	if tok, err := c.cfg.Store.Load(fctx, c.cfg.AppID); err == nil {
		if t := c.usable(tok, bad); t != nil {
			return t, nil
		}
	}
	tok, err := c.fetch(fctx)
	if err != nil {
		return nil, err
	}
	sctx, scancel := context.WithDeadline(ctx, heldUntil.Add(-margin))
	defer scancel()
	if err := lease.Save(sctx, tok); err != nil {
		msg := c.cfg.Package + ": access token: sharing it through the store failed"
		if errors.Is(err, wxauth.ErrLeaseLost) {
			msg = c.cfg.Package + ": access token: the store lock expired before the token was saved; not shared"
		}
		c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("error", err.Error()))
	}
	return c.newCached(tok, c.cfg.Now()), nil
}

// fetch asks the platform and checks what it brought.
func (c *Cache) fetch(ctx context.Context) (*wxauth.Token, error) {
	tok, err := c.cfg.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	if tok == nil || !Valid(tok.AccessToken) || tok.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("%s: access token: no usable token fetched", c.cfg.Package)
	}
	return tok, nil
}

// usable returns tok as a cache entry if it can be used and is not due.
func (c *Cache) usable(tok *wxauth.Token, bad string) *cached {
	if tok == nil || !Valid(tok.AccessToken) || tok.AccessToken == bad || tok.ExpiresAt.IsZero() {
		return nil
	}
	now := c.cfg.Now()
	t := c.newCached(tok, now)
	if !now.Before(t.refreshAt) {
		return nil
	}
	return t
}

// Invalidate drops tok, which the platform refused, from memory and, if it
// is still there, from the store; a newer token stays.
func (c *Cache) Invalidate(ctx context.Context, tok string) {
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
	if err := c.cfg.Store.Delete(ctx, c.cfg.AppID, tok); err != nil {
		c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, c.cfg.Package+": access token: deleting a refused token from the store failed", slog.String("error", err.Error()))
	}
}
