package wxauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// maxRefreshMargin is the most time before expiry at which a cached token is
// replaced: 4 min 50 s, inside the last five minutes of a stable token, when
// WeChat's stable_token in normal mode hands out the new token ("普通模式下平台
// 会提前5分钟更新access_token",
// https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html)
// while the old one stays valid until its expiry. The 10 s keep the refresh
// inside that window although a reply's expires_in is cut to whole seconds
// and the round trip adds to it; a refresh just before the window would get
// the old token back and cost a second request.
const maxRefreshMargin = 5*time.Minute - 10*time.Second

// minRefreshGap is the least time between two background refreshes when a
// refresh brought a token that is already due: a server that does not renew
// early (or a source of short-lived tokens) hands back the same token, and
// asking again at every call would be a storm. The next try waits half the
// time the token has left, at least this long.
const minRefreshGap = 10 * time.Second

// tokenPoll is how long an instance waits between looks at the shared store
// while another instance refreshes (plus up to as much again of jitter).
const tokenPoll = 50 * time.Millisecond

// cachedToken is an immutable snapshot of the current token. The fast path
// reads it through an atomic pointer and a clock: no lock, no allocation.
type cachedToken struct {
	token     string
	refreshAt time.Time // from here on, fetch a replacement
	expiresAt time.Time // from here on, do not use it
}

// never stands for "does not expire" ([StaticTokenSource]).
var never = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// newCachedToken computes when tok is due: a fifth of its lifetime before it
// expires, at most maxRefreshMargin (so 60 s of a stable_token first fetched
// with 300 s left).
func newCachedToken(tok *Token, now time.Time) *cachedToken {
	if tok.ExpiresAt.IsZero() {
		return &cachedToken{token: tok.AccessToken, refreshAt: never, expiresAt: never}
	}
	issued := tok.IssuedAt
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	margin := min(tok.ExpiresAt.Sub(issued)/5, maxRefreshMargin)
	if margin < 0 {
		margin = 0
	}
	return &cachedToken{token: tok.AccessToken, refreshAt: tok.ExpiresAt.Add(-margin), expiresAt: tok.ExpiresAt}
}

// flight is one refresh in progress; done is closed when tok or err is set.
type flight struct {
	done chan struct{}
	tok  *cachedToken
	err  error
}

// tokenCache caches one app's access token in memory, shares it through a
// [TokenStore], and makes sure that at most one refresh per process is in
// flight (and, through the store's lock, one per fleet).
type tokenCache struct {
	appID string
	src   TokenSource
	store TokenStore
	// failClosed: when the store fails, return the error instead of fetching
	// on our own (classic tokens, where a fetch knocks out the fleet's token).
	failClosed bool
	now        func() time.Time
	log        *slog.Logger
	lockTTL    time.Duration // store lock; the work under it ends before it expires
	budget     time.Duration // bound of one whole refresh, waiting included
	hold       time.Duration // no background refresh this long after one failed

	cur atomic.Pointer[cachedToken]

	mu        sync.Mutex
	fl        *flight   // refresh in progress, or nil
	bad       string    // last token WeChat refused: never taken from the store again
	badGen    uint64    // counts invalidations
	holdUntil time.Time // no background refresh before this
}

// get returns the current token. A cached token that is not due is returned
// at once. A due but unexpired token is returned too, while one refresh runs
// in the background. Without a usable token, get waits for the refresh (one
// for all callers) or for ctx.
func (c *tokenCache) get(ctx context.Context) (string, error) {
	if t := c.cur.Load(); t != nil && c.now().Before(t.refreshAt) {
		return t.token, nil
	}
	return c.slow(ctx)
}

func (c *tokenCache) slow(ctx context.Context) (string, error) {
	c.mu.Lock()
	now := c.now()
	t := c.cur.Load()
	if t != nil && now.Before(t.refreshAt) {
		c.mu.Unlock()
		return t.token, nil
	}
	valid := t != nil && now.Before(t.expiresAt)
	f := c.fl
	if f == nil && (!valid || !now.Before(c.holdUntil)) {
		f = &flight{done: make(chan struct{})}
		c.fl = f
		// The refresh outlives the caller that started it: the others wait
		// for it, and its token serves later calls.
		go c.run(context.WithoutCancel(ctx), f, c.badGen)
	}
	c.mu.Unlock()
	if valid {
		return t.token, nil
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return "", fmt.Errorf("wxauth: access token: %w", ctx.Err())
	}
	if f.err != nil {
		return "", f.err
	}
	return f.tok.token, nil
}

// run performs one refresh and hands its result to everyone waiting on f.
func (c *tokenCache) run(ctx context.Context, f *flight, gen uint64) {
	ctx, cancel := context.WithTimeout(ctx, c.budget)
	defer cancel()
	tok, err := c.refresh(ctx)
	c.mu.Lock()
	switch {
	case err != nil:
		c.holdUntil = c.now().Add(c.hold)
		c.log.LogAttrs(ctx, slog.LevelWarn, "wxauth: access token refresh failed", slog.String("error", err.Error()))
	case gen != c.badGen && tok.token == c.bad:
		// Refused while this refresh ran: hand it to the waiters (they
		// retry once) but do not cache it.
	default:
		now := c.now()
		if cur := c.cur.Load(); cur != nil && now.Before(cur.expiresAt) && cur.expiresAt.After(tok.expiresAt) {
			// The source brought a token that expires sooner than the one
			// held (such as expires_in 0 in the last second of the same
			// token): keep serving the one held.
			tok = cur
		}
		if !now.Before(tok.refreshAt) {
			// Due on arrival: WeChat has not renewed it yet. Try again
			// later, not at every call.
			c.holdUntil = now.Add(max(minRefreshGap, tok.expiresAt.Sub(now)/2))
		}
		c.cur.Store(tok)
		c.log.LogAttrs(ctx, slog.LevelDebug, "wxauth: access token refreshed", slog.Time("expires_at", tok.expiresAt))
	}
	c.fl = nil
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// refresh takes a fresh token from the store, or fetches one under the
// store's lock, or waits for another instance that holds the lock.
func (c *tokenCache) refresh(ctx context.Context) (*cachedToken, error) {
	c.mu.Lock()
	bad := c.bad
	c.mu.Unlock()
	for {
		tok, err := c.store.Load(ctx, c.appID)
		if err != nil {
			return c.storeFailed(ctx, "load", err)
		}
		if t := c.usable(tok, bad); t != nil {
			return t, nil
		}
		// The store starts the lock's ttl when it receives TryLock, so the
		// lock lasts at least until heldUntil; measuring from after TryLock
		// returned would overshoot by its round trip.
		heldUntil := time.Now().Add(c.lockTTL)
		lease, ok, err := c.store.TryLock(ctx, c.appID, c.lockTTL)
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
			return nil, fmt.Errorf("wxauth: access token: waiting for another instance to refresh it: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// lockMargin is how long before the store's lock expires the holder's work
// under it ends: a tenth of the lock's ttl, at most a second.
func lockMargin(ttl time.Duration) time.Duration { return min(ttl/10, time.Second) }

// fetchLocked fetches a token while holding the store's lock, which expires
// no earlier than heldUntil, and shares it through the lease.
//
// All of it ends before the lock expires: the fetch two margins before, so
// that no other instance fetches while this one still may (with the classic
// endpoint each fetch knocks out the previous token), and Save one margin
// before. Save is fenced by the lease as well: if this holder is late after
// all (a pause, a slow store), it stores nothing rather than overwrite the
// newer token of the lock's next holder.
func (c *tokenCache) fetchLocked(ctx context.Context, lease TokenLease, heldUntil time.Time, bad string) (*cachedToken, error) {
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := lease.Unlock(uctx); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "wxauth: access token: releasing the store lock failed", slog.String("error", err.Error()))
		}
	}()
	margin := lockMargin(c.lockTTL)
	fctx, cancel := context.WithDeadline(ctx, heldUntil.Add(-2*margin))
	defer cancel()
	// Another instance may have saved a token between our Load and the lock.
	if tok, err := c.store.Load(fctx, c.appID); err == nil {
		if t := c.usable(tok, bad); t != nil {
			return t, nil
		}
	}
	t, tok, err := c.fetch(fctx)
	if err != nil {
		return nil, err
	}
	sctx, scancel := context.WithDeadline(ctx, heldUntil.Add(-margin))
	defer scancel()
	if err := lease.Save(sctx, tok); err != nil {
		msg := "wxauth: access token: sharing it through the store failed"
		if errors.Is(err, ErrLeaseLost) {
			msg = "wxauth: access token: the store lock expired before the token was saved; not shared"
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("error", err.Error()))
	}
	return t, nil
}

// storeFailed decides what a refresh does when the shared store fails. With
// the classic endpoint, a fetch of our own would knock out the token every
// other instance holds (and burn the daily quota as they knock ours out in
// turn), so the store's error is returned: instances keep serving the token
// they have until it expires. stable_token in normal mode, and a
// [TokenSource] of the user's, hand everyone the same token, so fetching
// directly is safe.
func (c *tokenCache) storeFailed(ctx context.Context, what string, err error) (*cachedToken, error) {
	if c.failClosed {
		return nil, fmt.Errorf("wxauth: access token: token store %s failed, and a classic token is not fetched without it: %w", what, err)
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "wxauth: access token: token store failed, fetching directly",
		slog.String("step", what), slog.String("error", err.Error()))
	t, _, ferr := c.fetch(ctx)
	return t, ferr
}

// fetch asks the source for a token and checks it.
func (c *tokenCache) fetch(ctx context.Context) (*cachedToken, *Token, error) {
	tok, err := c.src.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := c.now()
	if tok == nil || !validToken(tok.AccessToken) || (!tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt)) {
		return nil, nil, fmt.Errorf("wxauth: access token: source returned no usable token: %w", ErrBadResponse)
	}
	cp := *tok
	if cp.IssuedAt.IsZero() {
		cp.IssuedAt = now
	}
	return newCachedToken(&cp, now), &cp, nil
}

// usable returns tok as a cache entry if it can be used and is not due.
func (c *tokenCache) usable(tok *Token, bad string) *cachedToken {
	if tok == nil || !validToken(tok.AccessToken) || tok.AccessToken == bad {
		return nil
	}
	now := c.now()
	t := newCachedToken(tok, now)
	if !now.Before(t.refreshAt) {
		return nil
	}
	return t
}

// invalidate drops tok, which WeChat refused, from the cache and the store,
// but only if it is still the current one there: a newer token fetched in
// the meantime stays. A [TokenInvalidator] source is told too.
func (c *tokenCache) invalidate(ctx context.Context, tok string) {
	if tok == "" {
		return
	}
	c.mu.Lock()
	first := c.bad != tok
	c.bad = tok
	c.badGen++
	if t := c.cur.Load(); t != nil && t.token == tok {
		c.cur.Store(nil)
	}
	c.mu.Unlock()
	if !first {
		// Concurrent calls refused with the same token: the store and the
		// source hear of it once per process.
		return
	}
	if err := c.store.Delete(ctx, c.appID, tok); err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "wxauth: access token: deleting a refused token from the store failed", slog.String("error", err.Error()))
	}
	if inv, ok := c.src.(TokenInvalidator); ok {
		if err := inv.InvalidateToken(ctx, tok); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "wxauth: access token: the token source's invalidation failed",
				slog.String("error", scrubMsg(err.Error(), tok)))
		}
	}
}
