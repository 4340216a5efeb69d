package fakeplat

import (
	"crypto/subtle"
	"sync"
	"time"
)

// KeepAll is the [TokenPolicy.Grace] of a platform whose tokens each stay
// valid until their own expiry, whatever is fetched after them.
const KeepAll time.Duration = -1

// TokenPolicy is how a platform issues access tokens.
type TokenPolicy struct {
	// TTL is a token's lifetime.
	TTL time.Duration
	// Reuse makes a fetch return the current token, with the time it has
	// left, until it expires (WeCom's gettoken, Douyin's
	// stable_client_token); without it every fetch issues a new one.
	Reuse bool
	// Grace is how long the previous token stays valid once a new one is
	// issued: 0 retires it at once (QQ's getToken), [KeepAll] leaves every
	// token valid until its own expiry (Kuaishou).
	Grace time.Duration
	// Prefix, Len and Alphabet make a token: Prefix and Len characters of
	// Alphabet.
	Prefix   string
	Len      int
	Alphabet string
}

// TokenState is what [Tokens.Check] found.
type TokenState int

// States of a token a call carries.
const (
	TokenOK      TokenState = iota // issued and valid
	TokenMissing                   // the call carried none
	TokenExpired                   // issued, past its expiry
	TokenUnknown                   // never issued, retired or revoked
)

// Tokens are the access tokens a fake issues, by its platform's policy. It
// is safe for concurrent use.
type Tokens struct {
	p   TokenPolicy
	now func() time.Time

	mu     sync.Mutex
	live   []issuedToken // the tokens that may still be valid, newest last
	issued int
}

type issuedToken struct {
	token   string
	expires time.Time
}

// NewTokens returns a fake's tokens, none issued yet, on the clock now.
func NewTokens(p TokenPolicy, now func() time.Time) *Tokens {
	return &Tokens{p: p, now: now}
}

// Issue answers a fetch: a token and the time it has left.
func (ts *Tokens) Issue() (string, time.Duration) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := ts.now()
	if n := len(ts.live); ts.p.Reuse && n > 0 && now.Before(ts.live[n-1].expires) {
		t := ts.live[n-1]
		return t.token, t.expires.Sub(now)
	}
	t := issuedToken{token: ts.p.Prefix + RandomString(ts.p.Len, ts.p.Alphabet), expires: now.Add(ts.p.TTL)}
	switch n := len(ts.live); {
	case ts.p.Grace == KeepAll:
		kept := ts.live[:0]
		for _, old := range ts.live {
			if now.Before(old.expires) {
				kept = append(kept, old)
			}
		}
		ts.live = append(kept, t)
	case ts.p.Grace > 0 && n > 0:
		prev := ts.live[n-1]
		if grace := now.Add(ts.p.Grace); grace.Before(prev.expires) {
			prev.expires = grace
		}
		ts.live = []issuedToken{prev, t}
	default:
		ts.live = []issuedToken{t}
	}
	ts.issued++
	return t.token, ts.p.TTL
}

// Check returns the state of tok, compared in constant time.
func (ts *Tokens) Check(tok string) TokenState {
	if tok == "" {
		return TokenMissing
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.live {
		if subtle.ConstantTimeCompare([]byte(t.token), []byte(tok)) == 1 {
			if ts.now().Before(t.expires) {
				return TokenOK
			}
			return TokenExpired
		}
	}
	return TokenUnknown
}

// Current returns the token issued last, expired or not, or "" before the
// first or after [Tokens.Revoke].
func (ts *Tokens) Current() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if n := len(ts.live); n > 0 {
		return ts.live[n-1].token
	}
	return ""
}

// Revoke drops every token before its expiry, as a platform may: calls with
// them are refused, and the next fetch issues a new one.
func (ts *Tokens) Revoke() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.live = nil
}

// Issued returns how many distinct tokens have been issued.
func (ts *Tokens) Issued() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issued
}
