package miniauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Token is an app access token: the credential of a platform's server APIs
// (WeChat's access_token for the phone number and checksession, Douyin's
// client_token, Kuaishou's and Baidu's access_token), shared by every user
// of one app. Alipay has none.
//
// A Token never shows its AccessToken, as [Session] never shows its
// session key: String, GoString, Format (every fmt verb), LogValue
// (log/slog) and encoding/json (so slog's JSON handler too, wherever the
// Token sits in what is logged) all leave it out. Read the field itself to
// use it; a [TokenStore] stores it with its own encoding.
type Token struct {
	// AccessToken is the token the platform issued.
	AccessToken string `json:"-"`
	// ExpiresAt is when the platform stops accepting the token. The zero
	// time means it does not expire (see [StaticTokenSource]).
	ExpiresAt time.Time `json:"expires_at"`
	// IssuedAt is when the token was fetched. Together with ExpiresAt it
	// sets how long before expiry a cache replaces it, by the platform's
	// rule (on WeChat: a fifth of its lifetime, at most 4 min 50 s, inside
	// the last five minutes, when stable_token renews). The zero time means
	// "when the cache received it".
	IssuedAt time.Time `json:"issued_at"`
}

func (t Token) safe() string {
	tok := ""
	if t.AccessToken != "" {
		tok = placeholder
	}
	exp := "never"
	if !t.ExpiresAt.IsZero() {
		exp = t.ExpiresAt.Format(time.RFC3339)
	}
	return fmt.Sprintf("miniauth.Token{AccessToken: %q, ExpiresAt: %s}", tok, exp)
}

// String returns the token's expiry without the token.
func (t Token) String() string { return t.safe() }

// GoString returns the token's expiry without the token, for %#v.
func (t Token) GoString() string { return t.safe() }

// Format prints the token's expiry without the token, whatever the verb.
func (t Token) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(t.safe())) }

// LogValue returns the token's expiry for log/slog, without the token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expires_at", t.ExpiresAt))
}

// TokenSource supplies app access tokens: the platform's token endpoint,
// or a central token service that a company runs for all its servers (a
// platform client takes one with its WithTokenSource option).
//
// Token returns a token that is valid now. It may make a request on every
// call: the platform client caches what it returns, refreshes it shortly
// before ExpiresAt and makes sure that only one call at a time is in
// flight, so an implementation needs no cache of its own. Implementations
// must be safe for concurrent use, must honour ctx, and must not put the
// token in an error.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// TokenInvalidator is implemented by a [TokenSource] that wants to hear
// when the platform refused one of its tokens (WeChat's errcode 40001,
// 40014 or 42001), for instance a central token service with a "this token
// is bad" endpoint. The platform client calls InvalidateToken with the
// refused token before it asks the source for a new one.
type TokenInvalidator interface {
	InvalidateToken(ctx context.Context, accessToken string) error
}

// StaticTokenSource returns a [TokenSource] that always returns
// accessToken, never expiring: for tests of code that calls an API with
// the app token against a fake server. A client using it never asks the
// platform for a token.
func StaticTokenSource(accessToken string) TokenSource {
	return staticSource{tok: accessToken}
}

type staticSource struct{ tok string }

func (s staticSource) Token(context.Context) (*Token, error) {
	if s.tok == "" {
		return nil, errors.New("miniauth: static token source: token is empty")
	}
	return &Token{AccessToken: s.tok}, nil
}

// TokenStore is where the instances of a fleet share one app's access
// token, so that one of them refreshes it and the others read it instead of
// each fetching its own (with WeChat's classic /cgi-bin/token or QQ's
// getToken, every fetch knocks out the tokens the other instances hold). A
// platform client keeps a copy in memory and only goes to the store when
// that copy is due for a refresh.
//
// The default store, [NewMemoryTokenStore], shares nothing beyond one
// process; package wxauth/redistoken has one on Redis, for every platform.
//
// Contract. Every method is keyed by the app's appid, so one store can
// serve several apps (the appids of different platforms do not collide:
// WeChat's start with "wx", Douyin's with "tt", Alipay's and Baidu's are
// digits, ...), and must be safe for concurrent use by many goroutines and
// many processes. A failure of the store itself (network, server) is
// returned as an error; "nothing there" is not an error.
//
//   - Load returns the stored token, or nil and no error when there is none,
//     it has expired or it cannot be decoded.
//   - Delete removes the stored token only if its AccessToken is still
//     accessToken (compare-and-delete), so that an instance that saw an old
//     token refused cannot delete the newer one another instance stored.
//   - TryLock takes the appid's refresh lock for at most ttl without waiting
//     and returns it as a [TokenLease]. It reports ok=false, with a nil lease
//     and no error, while another holder has it. The lock expires by itself
//     after ttl, so a holder that dies does not block the fleet.
//
// A token is stored only through a lease: [TokenLease.Save] writes it only
// while the lease still holds the lock, checked in the same atomic step as
// the write. A holder that ran past its ttl (a slow fetch, a pause, a slow
// store) therefore cannot overwrite the newer token that the next holder
// saved.
//
// A client uses these as: Load; if the token is missing or due, TryLock;
// the holder loads again (another may have just saved), fetches from the
// platform, Saves through the lease and unlocks, all before the lock
// expires, while the others poll Load until the new token appears or the
// lock is free.
type TokenStore interface {
	Load(ctx context.Context, appID string) (*Token, error)
	Delete(ctx context.Context, appID, accessToken string) error
	TryLock(ctx context.Context, appID string, ttl time.Duration) (lease TokenLease, ok bool, err error)
}

// TokenLease is an appid's refresh lock, held by the caller of
// [TokenStore.TryLock] that got it, and the only way to store a token. Its
// methods must be safe for concurrent use.
//
//   - Save stores tok as the appid's token, replacing any other, until its
//     ExpiresAt, if and only if this lease still holds the lock: the check
//     and the write are one atomic step. Once the lock has expired or been
//     released, Save stores nothing and returns an error matching
//     [ErrLeaseLost].
//   - Unlock releases the lock if this lease still holds it, and does
//     nothing otherwise (it expired, another holder has it now, or it was
//     released already).
type TokenLease interface {
	Save(ctx context.Context, tok *Token) error
	Unlock(ctx context.Context) error
}

// ErrLeaseLost is returned, possibly wrapped, by [TokenLease.Save] when the
// lease no longer holds the store's refresh lock: the token was not stored,
// so that it cannot overwrite a newer one saved by the lock's next holder.
var ErrLeaseLost = errors.New("miniauth: token store: the refresh lock is no longer held; token not saved")
