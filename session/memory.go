package session

import (
	"context"
	"errors"
	"hash/maphash"
	"runtime"
	"sync"
	"time"
)

// Defaults of the [MemoryStore] options.
const (
	// DefaultMaxEntries is the default bound on the records a [MemoryStore]
	// holds: about 40 MB of memory.
	DefaultMaxEntries = 100_000
	// DefaultSweepInterval is how often a [MemoryStore] drops expired records
	// by default.
	DefaultSweepInterval = time.Minute
)

// memoryShards is the number of independently locked parts of a large
// MemoryStore, so that concurrent requests rarely wait on one lock.
const memoryShards = 16

// evictSample is how many records a full shard looks at to pick one to evict.
const evictSample = 8

// A MemoryOption configures the store [NewMemoryStore] returns. Options
// validate their arguments: NewMemoryStore returns the first error.
type MemoryOption func(*memoryConfig) error

type memoryConfig struct {
	maxEntries int
	sweepEvery time.Duration
	now        func() time.Time
}

// WithMaxEntries bounds the records the store holds (default
// [DefaultMaxEntries]), so that memory stays bounded whatever the traffic. A
// store above 1024 entries is split into 16 shards and may hold up to 15
// records more than n. When a shard is full, a Put of a new key evicts an
// expired record if it finds one, or else the one closest to expiry among a
// few it samples: that user logs in again (silently, for a mini-program).
func WithMaxEntries(n int) MemoryOption {
	return func(c *memoryConfig) error {
		if n < 1 {
			return errors.New("session: max entries must be positive")
		}
		c.maxEntries = n
		return nil
	}
}

// WithSweepInterval sets how often the background sweep drops expired
// records (default [DefaultSweepInterval]). Expired records are dropped on
// read too; the sweep frees the memory of records nobody reads again.
func WithSweepInterval(d time.Duration) MemoryOption {
	return func(c *memoryConfig) error {
		if d <= 0 {
			return errors.New("session: sweep interval must be positive")
		}
		c.sweepEvery = d
		return nil
	}
}

// WithMemoryClock sets the clock the store measures TTLs with (default
// time.Now), for tests.
func WithMemoryClock(now func() time.Time) MemoryOption {
	return func(c *memoryConfig) error {
		if now == nil {
			return errors.New("session: clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// MemoryStore is a [Store] that keeps records in the process's memory: the
// right store for a server that runs on one machine. Records do not survive
// a restart; for several machines use package redisstore.
//
// It is safe for concurrent use. Expired records are removed when read and
// by a background sweep, which [MemoryStore.Close] stops; the number of
// records is bounded ([WithMaxEntries]).
type MemoryStore struct {
	m *memory
}

// memory is the state of a MemoryStore. The sweep goroutine holds it, but not
// the MemoryStore, so that a store that is dropped without Close is collected
// and its sweep stopped.
type memory struct {
	seed     maphash.Seed
	shards   []memoryShard
	perShard int
	now      func() time.Time

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type memoryShard struct {
	mu      sync.RWMutex
	entries map[string]memoryEntry
}

type memoryEntry struct {
	rec     Record
	expires time.Time
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty [MemoryStore] and starts its sweep. Call
// [MemoryStore.Close] when done with it.
func NewMemoryStore(opts ...MemoryOption) (*MemoryStore, error) {
	cfg := memoryConfig{maxEntries: DefaultMaxEntries, sweepEvery: DefaultSweepInterval, now: time.Now}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return newMemoryStore(cfg), nil
}

func newMemoryStore(cfg memoryConfig) *MemoryStore {
	n := memoryShards
	if cfg.maxEntries <= 1024 {
		n = 1
	}
	m := &memory{
		seed:     maphash.MakeSeed(),
		shards:   make([]memoryShard, n),
		perShard: (cfg.maxEntries + n - 1) / n,
		now:      cfg.now,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]memoryEntry)
	}
	go m.sweepLoop(cfg.sweepEvery)
	s := &MemoryStore{m: m}
	runtime.AddCleanup(s, func(m *memory) { m.close() }, m)
	return s
}

func (m *memory) shard(key string) *memoryShard {
	if len(m.shards) == 1 {
		return &m.shards[0]
	}
	return &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
}

// Get returns a copy of the record under key, or [ErrNotFound] when there is
// none or it has expired (it is then removed). The context is not used.
func (s *MemoryStore) Get(_ context.Context, key string) (*Record, error) {
	m := s.m
	sh := m.shard(key)
	sh.mu.RLock()
	e, ok := sh.entries[key]
	sh.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	if !m.now().Before(e.expires) {
		sh.mu.Lock()
		// Remove it unless a Put replaced it meanwhile.
		if cur, ok := sh.entries[key]; ok && !m.now().Before(cur.expires) {
			delete(sh.entries, key)
		}
		sh.mu.Unlock()
		return nil, ErrNotFound
	}
	rec := e.rec
	return &rec, nil
}

// Put stores a copy of rec under key for ttl. When the store is full it
// evicts a record first (see [WithMaxEntries]). The context is not used.
func (s *MemoryStore) Put(_ context.Context, key string, rec *Record, ttl time.Duration) error {
	if err := CheckPut(key, rec, ttl); err != nil {
		return err
	}
	m := s.m
	now := m.now()
	e := memoryEntry{rec: *rec, expires: now.Add(ttl)}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.entries[key]; !ok && len(sh.entries) >= m.perShard {
		sh.evictOne(now)
	}
	sh.entries[key] = e
	return nil
}

// evictOne removes one record from a full shard: the first expired one among
// a few it samples, or else the sampled one closest to expiry. The caller
// holds the write lock.
func (sh *memoryShard) evictOne(now time.Time) {
	var victim string
	var soonest time.Time
	n := 0
	for k, e := range sh.entries { // map iteration starts at a random place
		if !now.Before(e.expires) {
			victim = k
			break
		}
		if n == 0 || e.expires.Before(soonest) {
			victim, soonest = k, e.expires
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(sh.entries, victim)
}

// Delete removes the record under key, if any. The context is not used.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	sh := s.m.shard(key)
	sh.mu.Lock()
	delete(sh.entries, key)
	sh.mu.Unlock()
	return nil
}

// Len returns the number of records held, expired ones not yet removed
// included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.m.shards {
		sh := &s.m.shards[i]
		sh.mu.RLock()
		n += len(sh.entries)
		sh.mu.RUnlock()
	}
	return n
}

// Close stops the background sweep and waits for it to end. The store stays
// usable (expired records are still removed when read). Close may be called
// more than once; it always returns nil.
func (s *MemoryStore) Close() error {
	s.m.close()
	return nil
}

func (m *memory) close() {
	m.stopOnce.Do(func() { close(m.stop) })
	<-m.done
}

func (m *memory) sweepLoop(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep()
		}
	}
}

// sweep removes every expired record, one shard at a time.
func (m *memory) sweep() {
	for i := range m.shards {
		sh := &m.shards[i]
		now := m.now()
		sh.mu.Lock()
		for k, e := range sh.entries {
			if !now.Before(e.expires) {
				delete(sh.entries, k)
			}
		}
		sh.mu.Unlock()
	}
}
