package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/redact"
)

// MaxRefreshMargin is the most time before expiry at which [DefaultMargin]
// replaces a cached token: 4 min 50 s, inside the last five minutes of a
// WeChat stable token, when stable_token in normal mode hands out the new
// token ("普通模式下平台会提前5分钟更新access_token",
// https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html)
// while the old one stays valid until its expiry. The 10 s keep the refresh
// inside that window although a reply's expires_in is cut to whole seconds
// and the round trip adds to it; a refresh just before the window would get
// the old token back and cost a second request.
const MaxRefreshMargin = 5*time.Minute - 10*time.Second

// DefaultMargin is the renewal rule of a token that lived life (from its
// IssuedAt to its ExpiresAt): replace it a fifth of its lifetime before it
// expires, at most [MaxRefreshMargin] before (so 60 s of a WeChat
// stable_token first fetched with 300 s left). It suits the platforms whose
// old token stays valid until it expires (WeChat stable_token, Kuaishou's
// 48 h, Baidu's 30 days) and those where a refetch cuts the old one short
// (WeChat classic, QQ: a fleet shares one store; Douyin: five minutes left
// to the old one).
func DefaultMargin(life time.Duration) time.Duration { return min(life/5, MaxRefreshMargin) }

// MarginUpTo returns the renewal rule "a fifth of the lifetime, at most
// limit before expiry": [DefaultMargin] with a platform's own ceiling (QQ
// and WeCom five minutes, Kuaishou's 48 h tokens 30 minutes).
func MarginUpTo(limit time.Duration) func(life time.Duration) time.Duration {
	return func(life time.Duration) time.Duration { return min(life/5, limit) }
}

// MaxTokenLen caps an access token taken from a reply or a store. WeChat's
// are under 200 bytes and it asks for 512 to be reserved.
const MaxTokenLen = 2048

// ValidToken reports whether tok may be used as an access token: 1 to
// [MaxTokenLen] bytes of printable ASCII without spaces.
func ValidToken(tok string) bool {
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

// minRefreshGap is the least time between two background refreshes when a
// refresh brought a token that is already due: a server that does not renew
// early (or a source of short-lived tokens) hands back the same token, and
// asking again at every call would be a storm. The next try waits half the
// time the token has left, at least this long.
const minRefreshGap = 10 * time.Second

// tokenPoll is how long an instance waits between looks at the shared store
// while another instance refreshes (plus up to as much again of jitter).
const tokenPoll = 50 * time.Millisecond

// RefreshRetryGap is the [TokenConfig.RetryGap] of QQ, Douyin, Kuaishou
// and WeCom: after a failed refresh, ten seconds without another while the
// token held is still valid, so that a platform that is down, or a revoked
// secret, is not asked again at every call (Douyin's client_token also
// limits calls: 10020, over 500 in 5 minutes).
const RefreshRetryGap = 10 * time.Second

// TokenConfig is a platform's app token, for [Client.NewTokenCache]: where
// it comes from, where a fleet shares it, and its renewal rule.
type TokenConfig struct {
	// Key is what the store keys the token by. Required. WeChat's is the
	// bare appid (what stores held before other platforms came); every
	// other platform prefixes its own name and a colon ("qq:", "kuaishou:",
	// "douyin:", "wecom:corpid:") so that one store serves every platform
	// and app without two of them sharing a key.
	Key string
	// Source fetches a token: the platform's token endpoint through the
	// Client, or the user's WithTokenSource. Required.
	Source miniauth.TokenSource
	// Store shares the token across a fleet (default: a
	// miniauth.MemoryTokenStore on Now, this process alone).
	Store miniauth.TokenStore
	// Margin is the renewal rule: how long before its expiry a token that
	// lived life is replaced (default [DefaultMargin]). It is cut to
	// [0, life].
	Margin func(life time.Duration) time.Duration
	// FailClosed is for tokens of which a fetch retires the previous one
	// (WeChat's classic /cgi-bin/token, QQ's getToken): when the store
	// fails, the call fails with its error instead of fetching a token of
	// its own, which would knock out the token every other instance holds.
	// Without it (WeChat stable_token, a token service, tokens that stay
	// valid beside their successor), a failing store is logged and the
	// token fetched directly.
	FailClosed bool
	// RetryGap is how long after a failed refresh no background refresh
	// starts while the token held is still valid, so that a platform that
	// is down (or a revoked secret) is not asked again at every call
	// (default: the Client's backoff limit; the platforms with tokens of
	// their own use [RefreshRetryGap]). Callers without a valid token do
	// not wait for it.
	RetryGap time.Duration
	// Now is the clock that decides when a token is due and expired
	// (default time.Now).
	Now func() time.Time
}

// never stands for "does not expire" (miniauth.StaticTokenSource).
var never = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// RefreshAt returns when a cache replaces tok, received at now, by the
// renewal rule margin: margin(life) before its ExpiresAt, where life runs
// from its IssuedAt (now if zero or later) to its ExpiresAt. A token that
// does not expire is never due.
func RefreshAt(tok *miniauth.Token, now time.Time, margin func(life time.Duration) time.Duration) time.Time {
	if tok.ExpiresAt.IsZero() {
		return never
	}
	issued := tok.IssuedAt
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	life := tok.ExpiresAt.Sub(issued)
	m := margin(life)
	if m > life {
		m = life
	}
	if m < 0 {
		m = 0
	}
	return tok.ExpiresAt.Add(-m)
}

// cachedToken is an immutable snapshot of the current token. The fast path
// reads it through an atomic pointer and a clock: no lock, no allocation.
type cachedToken struct {
	token     string
	refreshAt time.Time // from here on, fetch a replacement
	expiresAt time.Time // from here on, do not use it
}

// flight is one refresh in progress; done is closed when tok or err is set.
type flight struct {
	done chan struct{}
	tok  *cachedToken
	err  error
}

// TokenCache caches one app's access token in memory, shares it through a
// miniauth.TokenStore, and makes sure that at most one refresh per process
// is in flight (and, through the store's lock, one per fleet). Build it
// with [Client.NewTokenCache]; it is safe for concurrent use.
type TokenCache struct {
	pkg        string
	key        string
	src        miniauth.TokenSource
	store      miniauth.TokenStore
	margin     func(time.Duration) time.Duration
	failClosed bool
	now        func() time.Time
	log        *slog.Logger
	badReply   error
	lockTTL    time.Duration // store lock; the work under it ends before it expires
	budget     time.Duration // bound of one whole refresh, waiting included
	hold       time.Duration // no background refresh this long after one failed
	platform   miniauth.Platform
	obs        *miniauth.Observer // told of each refresh, or nil
	fetches    atomic.Int64       // fetches from the source, for obs

	cur atomic.Pointer[cachedToken]

	mu        sync.Mutex
	fl        *flight   // refresh in progress, or nil
	bad       string    // last token the platform refused: never taken from the store again
	badGen    uint64    // counts invalidations
	holdUntil time.Time // no background refresh before this
}

// NewTokenCache returns the token cache of one app, whose fetches go
// through c: the store's lock lasts one fetch with all its retries
// (c's timeout and backoff), and after a failed refresh no background
// refresh starts for tc.RetryGap.
func (c *Client) NewTokenCache(tc TokenConfig) (*TokenCache, error) {
	if tc.Key == "" || tc.Source == nil {
		return nil, fmt.Errorf("%s: token cache needs a key and a source", c.cfg.Package)
	}
	if tc.RetryGap < 0 {
		return nil, fmt.Errorf("%s: token cache retry gap must not be negative", c.cfg.Package)
	}
	if tc.RetryGap == 0 {
		tc.RetryGap = c.cfg.BackoffLimit
	}
	if tc.Now == nil {
		tc.Now = time.Now
	}
	if tc.Margin == nil {
		tc.Margin = DefaultMargin
	}
	if tc.Store == nil {
		tc.Store = miniauth.NewMemoryTokenStore(miniauth.MemoryTokenStoreClock(tc.Now))
	}
	// One fetch, retries included, fits in the store's lock, with the two
	// margins the work under the lock keeps before the lock expires.
	n := time.Duration(c.cfg.Retries)
	fetch := c.cfg.Timeout*(n+1) + c.cfg.BackoffLimit*n
	lockTTL := fetch + 2*LockMargin(fetch)
	return &TokenCache{
		pkg:        c.cfg.Package,
		key:        tc.Key,
		src:        tc.Source,
		store:      tc.Store,
		margin:     tc.Margin,
		failClosed: tc.FailClosed,
		now:        tc.Now,
		log:        c.cfg.Logger,
		badReply:   c.cfg.ErrBadResponse,
		lockTTL:    lockTTL,
		budget:     2*lockTTL + time.Second,
		hold:       tc.RetryGap,
		platform:   c.cfg.Platform,
		obs:        c.cfg.Observer,
	}, nil
}

// newCachedToken computes when tok is due by c's renewal rule.
func (c *TokenCache) newCachedToken(tok *miniauth.Token, now time.Time) *cachedToken {
	if tok.ExpiresAt.IsZero() {
		return &cachedToken{token: tok.AccessToken, refreshAt: never, expiresAt: never}
	}
	return &cachedToken{token: tok.AccessToken, refreshAt: RefreshAt(tok, now, c.margin), expiresAt: tok.ExpiresAt}
}

// Get returns the current token. A cached token that is not due is
// returned at once, without a lock or an allocation. A due but unexpired
// token is returned too, while one refresh runs in the background. Without
// a usable token, Get waits for the refresh (one for all callers) or for
// ctx (then the error matches ctx.Err()).
func (c *TokenCache) Get(ctx context.Context) (string, error) {
	if t := c.cur.Load(); t != nil && c.now().Before(t.refreshAt) {
		return t.token, nil
	}
	return c.slow(ctx)
}

func (c *TokenCache) slow(ctx context.Context) (string, error) {
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
		return "", fmt.Errorf("%s: access token: %w", c.pkg, ctx.Err())
	}
	if f.err != nil {
		return "", f.err
	}
	return f.tok.token, nil
}

// WaitRefresh waits for the refresh in flight, if any: for tests that
// look at what a background refresh did.
func (c *TokenCache) WaitRefresh() {
	c.mu.Lock()
	f := c.fl
	c.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

// run performs one refresh and hands its result to everyone waiting on f.
func (c *TokenCache) run(ctx context.Context, f *flight, gen uint64) {
	ctx, cancel := context.WithTimeout(ctx, c.budget)
	defer cancel()
	var start time.Time
	var fetches int64
	observed := c.obs != nil && c.obs.TokenRefresh != nil
	if observed {
		start, fetches = time.Now(), c.fetches.Load()
	}
	tok, err := c.refresh(ctx)
	if observed {
		// One refresh runs at a time: the fetches counted meanwhile are its.
		// Told before the waiters are released, so that what they see next
		// includes it.
		c.obs.TokenRefresh(ctx, &miniauth.TokenRefresh{Platform: c.platform,
			Duration: time.Since(start), Fetched: c.fetches.Load() != fetches, Err: err})
	}
	c.mu.Lock()
	switch {
	case err != nil:
		c.holdUntil = c.now().Add(c.hold)
		c.log.LogAttrs(ctx, slog.LevelWarn, c.pkg+": access token refresh failed", slog.String("error", err.Error()))
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
			// Due on arrival: the platform has not renewed it yet. Try
			// again later, not at every call.
			c.holdUntil = now.Add(max(minRefreshGap, tok.expiresAt.Sub(now)/2))
		}
		c.cur.Store(tok)
		c.log.LogAttrs(ctx, slog.LevelDebug, c.pkg+": access token refreshed", slog.Time("expires_at", tok.expiresAt))
	}
	c.fl = nil
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// refresh takes a fresh token from the store, or fetches one under the
// store's lock, or waits for another instance that holds the lock.
func (c *TokenCache) refresh(ctx context.Context) (*cachedToken, error) {
	c.mu.Lock()
	bad := c.bad
	c.mu.Unlock()
	for {
		tok, err := c.store.Load(ctx, c.key)
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
		lease, ok, err := c.store.TryLock(ctx, c.key, c.lockTTL)
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
			return nil, fmt.Errorf("%s: access token: waiting for another instance to refresh it: %w", c.pkg, ctx.Err())
		case <-t.C:
		}
	}
}

// LockMargin is how long before the store's lock expires the holder's work
// under it ends: a tenth of the lock's ttl, at most a second.
func LockMargin(ttl time.Duration) time.Duration { return min(ttl/10, time.Second) }

// fetchLocked fetches a token while holding the store's lock, which expires
// no earlier than heldUntil, and shares it through the lease.
//
// All of it ends before the lock expires: the fetch two margins before, so
// that no other instance fetches while this one still may (with a classic
// endpoint each fetch knocks out the previous token), and Save one margin
// before. Save is fenced by the lease as well: if this holder is late after
// all (a pause, a slow store), it stores nothing rather than overwrite the
// newer token of the lock's next holder.
func (c *TokenCache) fetchLocked(ctx context.Context, lease miniauth.TokenLease, heldUntil time.Time, bad string) (*cachedToken, error) {
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := lease.Unlock(uctx); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, c.pkg+": access token: releasing the store lock failed", slog.String("error", err.Error()))
		}
	}()
	margin := LockMargin(c.lockTTL)
	fctx, cancel := context.WithDeadline(ctx, heldUntil.Add(-2*margin))
	defer cancel()
	// Another instance may have saved a token between our Load and the lock.
	if tok, err := c.store.Load(fctx, c.key); err == nil {
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
		msg := c.pkg + ": access token: sharing it through the store failed"
		if errors.Is(err, miniauth.ErrLeaseLost) {
			msg = c.pkg + ": access token: the store lock expired before the token was saved; not shared"
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("error", err.Error()))
	}
	return t, nil
}

// storeFailed decides what a refresh does when the shared store fails. A
// fail-closed token (a fetch of our own would knock out the token every
// other instance holds, and burn the daily quota as they knock ours out in
// turn) returns the store's error: instances keep serving the token they
// have until it expires. Other tokens hand everyone the same token, or one
// that lives beside the others', so fetching directly is safe.
func (c *TokenCache) storeFailed(ctx context.Context, what string, err error) (*cachedToken, error) {
	if c.failClosed {
		return nil, fmt.Errorf("%s: access token: token store %s failed, and a token whose fetch retires the previous one (a classic token) is not fetched without it: %w", c.pkg, what, err)
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, c.pkg+": access token: token store failed, fetching directly",
		slog.String("step", what), slog.String("error", err.Error()))
	t, _, ferr := c.fetch(ctx)
	return t, ferr
}

// fetch asks the source for a token and checks it.
func (c *TokenCache) fetch(ctx context.Context) (*cachedToken, *miniauth.Token, error) {
	c.fetches.Add(1)
	tok, err := c.src.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := c.now()
	if tok == nil || !ValidToken(tok.AccessToken) || (!tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt)) {
		return nil, nil, fmt.Errorf("%s: access token: source returned no usable token: %w", c.pkg, c.badReply)
	}
	cp := *tok
	if cp.IssuedAt.IsZero() {
		cp.IssuedAt = now
	}
	return c.newCachedToken(&cp, now), &cp, nil
}

// usable returns tok as a cache entry if it can be used and is not due.
func (c *TokenCache) usable(tok *miniauth.Token, bad string) *cachedToken {
	if tok == nil || !ValidToken(tok.AccessToken) || tok.AccessToken == bad {
		return nil
	}
	now := c.now()
	t := c.newCachedToken(tok, now)
	if !now.Before(t.refreshAt) {
		return nil
	}
	return t
}

// Invalidate drops tok, which the platform refused, from the cache and the
// store, but only if it is still the current one there: a newer token
// fetched in the meantime stays. A miniauth.TokenInvalidator source is
// told too. Concurrent calls refused with the same token reach the store
// and the source once per process.
func (c *TokenCache) Invalidate(ctx context.Context, tok string) {
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
		return
	}
	if err := c.store.Delete(ctx, c.key, tok); err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, c.pkg+": access token: deleting a refused token from the store failed", slog.String("error", err.Error()))
	}
	if inv, ok := c.src.(miniauth.TokenInvalidator); ok {
		if err := inv.InvalidateToken(ctx, tok); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, c.pkg+": access token: the token source's invalidation failed",
				slog.String("error", redact.Strings(err.Error(), tok)))
		}
	}
}

// Call runs call with the current token. If the platform refuses that
// token (refused(err), the dialect's "token refused" codes), it is
// invalidated (only it) and call runs once more with a new one; a new
// token equal to the refused one is not tried.
func (c *TokenCache) Call(ctx context.Context, refused func(error) bool, call func(tok string) error) error {
	tok, err := c.Get(ctx)
	if err != nil {
		return err
	}
	err = call(tok)
	if !refused(err) {
		return err
	}
	c.Invalidate(ctx, tok)
	fresh, ferr := c.Get(ctx)
	if ferr != nil {
		return fmt.Errorf("%w; then %w", err, ferr)
	}
	if fresh == tok {
		return err
	}
	return call(fresh)
}

// TokenSourceFunc adapts a function to a miniauth.TokenSource: a
// platform's fetch from its token endpoint, through its Client.
type TokenSourceFunc func(ctx context.Context) (*miniauth.Token, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (*miniauth.Token, error) { return f(ctx) }

// TokenFromReply checks the access token and the expires_in (seconds) of
// a token endpoint's reply received at now, for a platform whose tokens
// live at most maxLife (WeChat and QQ 2 h, Kuaishou 48 h, Baidu 30 days),
// and returns the Token, or why the reply cannot be used (for
// [Client.BadReply]).
//
// expires_in counts down in whole seconds, cut, so 0 is a token in the last
// second of its life, not a malformed reply: it is taken as valid for one
// second, for the callers waiting for it (the cache keeps a longer-lived
// token it holds, and asks again once this one has expired).
func TokenFromReply(accessToken string, expiresIn *int64, maxLife time.Duration, now time.Time) (tok *miniauth.Token, why string) {
	if !ValidToken(accessToken) {
		return nil, "no usable access_token"
	}
	if expiresIn == nil {
		return nil, "no expires_in"
	}
	if n := *expiresIn; n < 0 || n > int64(maxLife/time.Second) {
		return nil, fmt.Sprintf("expires_in %d", n)
	}
	life := time.Duration(max(*expiresIn, 1)) * time.Second
	return &miniauth.Token{AccessToken: accessToken, IssuedAt: now, ExpiresAt: now.Add(life)}, ""
}
