package wxauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wxmp/miniauth/internal/redact"
)

// Token is an access_token: the credential of WeChat's server APIs (phone
// number, checksession, ...), shared by every user of one mini-program.
//
// A Token never shows its AccessToken, as [Session] never shows its
// session_key: String, GoString, Format (every fmt verb), LogValue (log/slog)
// and encoding/json (so slog's JSON handler too, wherever the Token sits in
// what is logged) all leave it out. Read the field itself to use it; a
// [TokenStore] stores it with its own encoding.
type Token struct {
	// AccessToken is the token WeChat issued.
	AccessToken string `json:"-"`
	// ExpiresAt is when WeChat stops accepting the token. The zero time means
	// it does not expire (see [StaticTokenSource]).
	ExpiresAt time.Time `json:"expires_at"`
	// IssuedAt is when the token was fetched. Together with ExpiresAt it sets
	// how long before expiry a cache replaces it: a fifth of its lifetime, at
	// most 4 min 50 s (inside the last five minutes, when stable_token
	// renews). The zero time means "when the cache received it".
	IssuedAt time.Time `json:"issued_at"`
}

func (t Token) safe() string {
	tok := ""
	if t.AccessToken != "" {
		tok = redact.Placeholder
	}
	exp := "never"
	if !t.ExpiresAt.IsZero() {
		exp = t.ExpiresAt.Format(time.RFC3339)
	}
	return fmt.Sprintf("wxauth.Token{AccessToken: %q, ExpiresAt: %s}", tok, exp)
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

// TokenSource supplies access tokens: WeChat's token endpoints, or a central
// token service that a company runs for all its servers (plug one in with
// [WithTokenSource]).
//
// Token returns a token that is valid now. It may make a request on every
// call: [App] caches what it returns, refreshes it shortly before ExpiresAt
// and makes sure that only one call at a time is in flight, so an
// implementation needs no cache of its own. Implementations must be safe for
// concurrent use, must honour ctx, and must not put the token in an error.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// TokenInvalidator is implemented by a [TokenSource] that wants to hear when
// WeChat refused one of its tokens (errcode 40001, 40014 or 42001), for
// instance a central token service with a "this token is bad" endpoint.
// [App] calls InvalidateToken with the refused token before it asks the
// source for a new one.
type TokenInvalidator interface {
	InvalidateToken(ctx context.Context, accessToken string) error
}

// StaticTokenSource returns a [TokenSource] that always returns accessToken,
// never expiring: for tests of code that calls [App.GetPhoneNumber] and the
// like against a fake server. An App using it never asks WeChat for a token.
func StaticTokenSource(accessToken string) TokenSource {
	return staticSource{tok: accessToken}
}

type staticSource struct{ tok string }

func (s staticSource) Token(context.Context) (*Token, error) {
	if s.tok == "" {
		return nil, errors.New("wxauth: static token source: token is empty")
	}
	return &Token{AccessToken: s.tok}, nil
}

// TokenStore is where the instances of a fleet share one access token, so
// that one of them refreshes it and the others read it instead of each
// fetching its own (with the classic /cgi-bin/token, every fetch knocks out
// the tokens the other instances hold: errcode 40001). [App] keeps a copy in
// memory and only goes to the store when that copy is due for a refresh.
//
// The default store, [NewMemoryTokenStore], shares nothing beyond one
// process; package wxauth/redistoken has one on Redis.
//
// Contract. Every method is keyed by the mini-program's appid, so one store
// can serve several apps, and must be safe for concurrent use by many
// goroutines and many processes. A failure of the store itself (network,
// server) is returned as an error; "nothing there" is not an error.
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
// [App] uses these as: Load; if the token is missing or due, TryLock; the
// holder loads again (another may have just saved), fetches from WeChat,
// Saves through the lease and unlocks, all before the lock expires, while
// the others poll Load until the new token appears or the lock is free.
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
var ErrLeaseLost = errors.New("wxauth: token store: the refresh lock is no longer held; token not saved")

// MemoryTokenStore is a [TokenStore] in the memory of one process. It is the
// default of [App]; give several Apps of one appid the same MemoryTokenStore
// to share one token between them. The zero value is not usable: create it
// with [NewMemoryTokenStore].
type MemoryTokenStore struct {
	now   func() time.Time
	mu    sync.Mutex
	apps  map[string]*memEntry
	locks uint64 // lock owner ids handed out so far
}

type memEntry struct {
	tok       *Token
	lockOwner uint64
	lockUntil time.Time
}

// NewMemoryTokenStore returns an empty [MemoryTokenStore].
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{now: time.Now, apps: make(map[string]*memEntry)}
}

func (m *MemoryTokenStore) entry(appID string) *memEntry {
	e := m.apps[appID]
	if e == nil {
		e = &memEntry{}
		m.apps[appID] = e
	}
	return e
}

// Load returns a copy of the appid's token, or nil when there is none or it
// has expired.
func (m *MemoryTokenStore) Load(_ context.Context, appID string) (*Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.apps[appID]
	if e == nil || e.tok == nil {
		return nil, nil
	}
	if !e.tok.ExpiresAt.IsZero() && !m.now().Before(e.tok.ExpiresAt) {
		e.tok = nil
		return nil, nil
	}
	t := *e.tok
	return &t, nil
}

// Delete removes appID's token if it is still accessToken.
func (m *MemoryTokenStore) Delete(_ context.Context, appID, accessToken string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.apps[appID]; e != nil && e.tok != nil && e.tok.AccessToken == accessToken {
		e.tok = nil
	}
	return nil
}

// TryLock takes appID's refresh lock for ttl if nobody holds it. The
// returned lease's Save stores a copy of a token while the lock is still
// its own and unexpired.
func (m *MemoryTokenStore) TryLock(_ context.Context, appID string, ttl time.Duration) (TokenLease, bool, error) {
	if ttl <= 0 {
		return nil, false, errors.New("wxauth: memory token store: lock ttl must be positive")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(appID)
	now := m.now()
	if e.lockOwner != 0 && now.Before(e.lockUntil) {
		return nil, false, nil
	}
	m.locks++
	e.lockOwner, e.lockUntil = m.locks, now.Add(ttl)
	return &memLease{m: m, e: e, owner: m.locks}, true, nil
}

// memLease is a [MemoryTokenStore] lock: the owner id it was taken with.
type memLease struct {
	m     *MemoryTokenStore
	e     *memEntry
	owner uint64
}

// held reports whether l still holds its lock; m.mu must be held.
func (l *memLease) held() bool {
	return l.e.lockOwner == l.owner && l.m.now().Before(l.e.lockUntil)
}

// Save stores a copy of tok if l still holds the lock.
func (l *memLease) Save(_ context.Context, tok *Token) error {
	if tok == nil || tok.AccessToken == "" {
		return errors.New("wxauth: memory token store: token is empty")
	}
	t := *tok
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if !l.held() {
		return ErrLeaseLost
	}
	l.e.tok = &t
	return nil
}

// Unlock releases the lock if it is still l's.
func (l *memLease) Unlock(context.Context) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if l.e.lockOwner == l.owner {
		l.e.lockOwner = 0
	}
	return nil
}

// maxTokenLen caps an access_token taken from a reply or a store. WeChat's
// are under 200 bytes and it asks for 512 to be reserved.
const maxTokenLen = 2048

// maxExpiresIn caps the lifetime taken from a reply (WeChat's is at most 7200 s).
const maxExpiresIn = 24 * 60 * 60

// tokenReply is what /cgi-bin/token and /cgi-bin/stable_token return.
type tokenReply struct {
	baseReply
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"` // nil: missing
}

// wechatSource fetches tokens from WeChat's endpoints through the App's
// request helper: POST /cgi-bin/stable_token (normal mode), or the classic
// GET /cgi-bin/token.
type wechatSource struct {
	app     *App
	classic bool
}

func (s wechatSource) Token(ctx context.Context) (*Token, error) {
	a := s.app
	req := request{op: "stable_token", method: http.MethodPost, path: "/cgi-bin/stable_token",
		// JSON body: the secret stays out of the URL. force_refresh is never
		// set: WeChat allows it 20 times a day, 30 s apart, and it knocks
		// out the token every other caller holds.
		body: stableTokenBody{GrantType: "client_credential", AppID: a.appID, Secret: a.secret},
	}
	if s.classic {
		req = request{op: "token", method: http.MethodGet, path: "/cgi-bin/token",
			query: map[string]string{"grant_type": "client_credential", "appid": a.appID, "secret": a.secret}}
	}
	var r tokenReply
	if err := a.do(ctx, req, &r); err != nil {
		return nil, err
	}
	return tokenFromReply(req.op, &r, a.cfg.now())
}

// tokenFromReply checks a token reply received at now.
//
// expires_in counts down in whole seconds, cut, so 0 is a token in the last
// second of its life, not a malformed reply: it is taken as valid for one
// second, for the callers waiting for it (the cache keeps a longer-lived
// token it holds, and asks again once this one has expired).
func tokenFromReply(op string, r *tokenReply, now time.Time) (*Token, error) {
	if !validToken(r.AccessToken) {
		return nil, badReply(op, "no usable access_token")
	}
	if r.ExpiresIn == nil {
		return nil, badReply(op, "no expires_in")
	}
	if n := *r.ExpiresIn; n < 0 || n > maxExpiresIn {
		return nil, badReply(op, fmt.Sprintf("expires_in %d", n))
	}
	life := time.Duration(max(*r.ExpiresIn, 1)) * time.Second
	return &Token{AccessToken: r.AccessToken, IssuedAt: now, ExpiresAt: now.Add(life)}, nil
}

type stableTokenBody struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// validToken reports whether tok may be used as an access_token: 1 to
// maxTokenLen bytes of printable ASCII.
func validToken(tok string) bool {
	return tok != "" && len(tok) <= maxTokenLen && printableASCII(tok)
}
