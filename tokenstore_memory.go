package miniauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// MemoryTokenStore is a [TokenStore] in the memory of one process. It is
// the default store of a platform client; give several clients of one
// appid the same MemoryTokenStore to share one token between them. The
// zero value is not usable: create it with [NewMemoryTokenStore].
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

// A MemoryTokenStoreOption configures [NewMemoryTokenStore].
type MemoryTokenStoreOption func(*MemoryTokenStore)

// MemoryTokenStoreClock makes the store read the time from now (default
// time.Now): its tokens and locks expire by that clock. A platform client
// gives its own store its WithClock clock; tests that move time by hand
// use it too. A nil now is ignored.
func MemoryTokenStoreClock(now func() time.Time) MemoryTokenStoreOption {
	return func(m *MemoryTokenStore) {
		if now != nil {
			m.now = now
		}
	}
}

// NewMemoryTokenStore returns an empty [MemoryTokenStore].
func NewMemoryTokenStore(opts ...MemoryTokenStoreOption) *MemoryTokenStore {
	m := &MemoryTokenStore{now: time.Now, apps: make(map[string]*memEntry)}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return m
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
		return nil, false, errors.New("miniauth: memory token store: lock ttl must be positive")
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
		return errors.New("miniauth: memory token store: token is empty")
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
