package fakeplat

import (
	"fmt"
	"sync"
	"time"
)

// UsersConfig describes a fake's users for [NewUsers].
type UsersConfig[U any] struct {
	// Settings are the fake's: its Name and clock, and the RateLimit of
	// code exchanges.
	Settings
	// IDName is what the platform calls a user's id, for errors (default
	// "openid").
	IDName string
	// ErrUnknown and ErrNotLoggedIn are the fake's sentinels for a user
	// no one registered and one who has no session_key yet.
	ErrUnknown, ErrNotLoggedIn error
	// Fill returns u with the fake's defaults and its id (a new random one
	// when u has none).
	Fill func(u U) (string, U)
	// Blank returns a user with id (maybe ""), for a login of a user no
	// one registered.
	Blank func(id string) U
	// CodeTTL is how long a login code stays valid, CodeLen its length
	// (default 32).
	CodeTTL time.Duration
	CodeLen int
	// KeyLen is the length in bytes of a session_key, base64 in replies
	// (default 16).
	KeyLen int
}

// Users is a fake's registry of simulated users of the mini-program: each
// with a session_key that every login replaces, login codes valid for a
// time and once, and an optional limit of exchanges a minute. It is safe
// for concurrent use.
type Users[U any] struct {
	cfg   UsersConfig[U]
	codes *Codes

	mu sync.Mutex
	m  map[string]*userEntry[U]
}

type userEntry[U any] struct {
	u          U
	sessionKey string
	recent     []time.Time // code exchanges within the last minute
}

// NewUsers returns an empty registry.
func NewUsers[U any](cfg UsersConfig[U]) *Users[U] {
	if cfg.IDName == "" {
		cfg.IDName = "openid"
	}
	if cfg.CodeLen == 0 {
		cfg.CodeLen = 32
	}
	if cfg.KeyLen == 0 {
		cfg.KeyLen = 16
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Users[U]{cfg: cfg, codes: NewCodes(cfg.CodeTTL, cfg.Now), m: map[string]*userEntry[U]{}}
}

// Add registers u, with the defaults, and returns its id. A user with the
// same id is replaced, keeping their session_key.
func (r *Users[U]) Add(u U) string {
	id, u := r.cfg.Fill(u)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(id, u)
	return id
}

func (r *Users[U]) put(id string, u U) *userEntry[U] {
	if old := r.m[id]; old != nil {
		old.u = u
		return old
	}
	e := &userEntry[U]{u: u}
	r.m[id] = e
	return e
}

// Login gives the user with id a new session_key (registering one with
// that id, or with a new random one for "") and returns a new login code.
func (r *Users[U]) Login(id string) string {
	r.mu.Lock()
	e := r.m[id]
	if e == nil {
		var u U
		id, u = r.cfg.Fill(r.cfg.Blank(id))
		e = r.put(id, u)
	}
	e.sessionKey = RandomKey(r.cfg.KeyLen)
	r.mu.Unlock()
	return r.codes.Issue(id, r.cfg.CodeLen)
}

// Get returns the user with id.
func (r *Users[U]) Get(id string) (U, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[id]
	if e == nil {
		var zero U
		return zero, false
	}
	return e.u, true
}

// LoggedIn returns the user with id and their session_key, or the fake's
// [UsersConfig.ErrUnknown] or [UsersConfig.ErrNotLoggedIn].
func (r *Users[U]) LoggedIn(id string) (U, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var zero U
	e := r.m[id]
	if e == nil {
		return zero, "", fmt.Errorf("%s: %s %q: %w", r.cfg.Name, r.cfg.IDName, id, r.cfg.ErrUnknown)
	}
	if e.sessionKey == "" {
		return zero, "", fmt.Errorf("%s: %s %q: %w", r.cfg.Name, r.cfg.IDName, id, r.cfg.ErrNotLoggedIn)
	}
	return e.u, e.sessionKey, nil
}

// Peek returns the user a login code stands for, with their session_key,
// and the code's state, without using it up.
func (r *Users[U]) Peek(code string) (U, string, CodeState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, st := r.peek(code)
	if st != CodeOK {
		var zero U
		return zero, "", st
	}
	return e.u, e.sessionKey, st
}

// peek returns the user of a valid code. r.mu must be held.
func (r *Users[U]) peek(code string) (*userEntry[U], CodeState) {
	id, st := r.codes.Peek(code)
	if st != CodeOK {
		return nil, st
	}
	return r.m[id], st
}

// Exchange uses a login code up and returns its user and their
// session_key, or the state that refuses it: unknown or expired, used, or
// [CodeLimited] when the user is over the rate limit (the code is then not
// used up).
func (r *Users[U]) Exchange(code string) (U, string, CodeState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var zero U
	e, st := r.peek(code)
	switch {
	case st != CodeOK:
	case r.cfg.RateLimit > 0 && !e.allow(r.cfg.Now(), r.cfg.RateLimit):
		st = CodeLimited
	default:
		_, st = r.codes.Take(code) // CodeOK: r.mu keeps it valid
	}
	if st != CodeOK {
		return zero, "", st
	}
	return e.u, e.sessionKey, CodeOK
}

// allow records an exchange at now and reports whether it is within limit
// exchanges in a sliding minute. r.mu must be held.
func (e *userEntry[U]) allow(now time.Time, limit int) bool {
	cut := now.Add(-time.Minute)
	i := 0
	for i < len(e.recent) && !e.recent[i].After(cut) {
		i++
	}
	e.recent = e.recent[i:]
	if len(e.recent) >= limit {
		return false
	}
	e.recent = append(e.recent, now)
	return true
}
