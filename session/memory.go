package session

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the [MemoryStore] options.
const (
	// DefaultMaxEntries is the default bound on the records a [MemoryStore]
	// holds. Full of sessions with WeChat-sized fields (half of them with a
	// subject), it holds about 45 MiB of live heap, 475 bytes a session for
	// the record, its key, its owner's index and its subject's openid link;
	// after a full turnover (every record evicted once) about 58 MiB, as Go
	// maps keep room from deleted entries, and it settles at about 59 MiB
	// (measured after 2 M issues). A process's resident memory is larger
	// again: with the default GOGC the heap grows to about twice what is
	// live between collections. BenchmarkMemoryStoreFootprint measures
	// these figures.
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
	maxEntries  int
	maxPerOwner int
	sweepEvery  time.Duration
	now         func() time.Time
}

func defaultMemoryConfig() memoryConfig {
	return memoryConfig{
		maxEntries:  DefaultMaxEntries,
		maxPerOwner: DefaultMaxPerSubject,
		sweepEvery:  DefaultSweepInterval,
		now:         time.Now,
	}
}

// WithMaxPerSubject bounds the sessions one owner ([Record.Owner]: a
// subject, or the openid of a session without one) holds in the store
// (default [DefaultMaxPerSubject]), from 1 to [MaxPerSubjectLimit]. A Put
// beyond it removes the owner's record closest to expiry (the oldest, for
// records of one TTL), never the one being put.
func WithMaxPerSubject(n int) MemoryOption {
	return func(c *memoryConfig) error {
		if n < 1 || n > MaxPerSubjectLimit {
			return fmt.Errorf("session: max sessions per subject must be 1 to %d", MaxPerSubjectLimit)
		}
		c.maxPerOwner = n
		return nil
	}
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
// records is bounded ([WithMaxEntries]), and so is the number one user
// holds ([WithMaxPerSubject]). It is a [SubjectStore]: it indexes records by
// [Record.Owner], so [Manager.RevokeAll] ends a user's sessions without a
// scan.
type MemoryStore struct {
	m *memory
}

// memory is the state of a MemoryStore. The sweep goroutine holds it, but not
// the MemoryStore, so that a store that is dropped without Close is collected
// and its sweep stopped.
type memory struct {
	seed        maphash.Seed
	shards      []memoryShard
	owners      []ownerShard
	perShard    int
	maxPerOwner int
	now         func() time.Time
	seq         atomic.Uint64 // numbers every Put, so that an index entry names one record

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
	expires int64 // unix nanoseconds
	seq     uint64
}

// ownerShard indexes the records of the owners whose names hash to it. Lock
// order: a memoryShard's lock first, then an ownerShard's; code that holds
// an ownerShard's lock takes no other.
type ownerShard struct {
	mu     sync.Mutex
	owners map[string][]ownedKey // in the order of their Puts
	// pending holds the records that a Put (over the bound) or a
	// DeleteSubject took out of their owner's index and has not deleted yet,
	// so that a DeleteSubject running meanwhile deletes them too: a record
	// leaves the owner's lists only once it is gone.
	pending map[string][]ownedKey
	// links holds, for each subject that holds records, the openids its
	// records were Put with and when the last of those records expires: a
	// DeleteSubject of the subject ends the sessions those openids held
	// without a subject (before they were bound to it) too. A subject's
	// links go with its last record, so that they take no memory beyond
	// the records'.
	links map[string][]ownerLink
}

// ownerLink is an openid a subject's records were Put with.
type ownerLink struct {
	openID  string
	expires int64 // unix nanoseconds
}

// ownedKey is one record of an owner: its key and the seq of its Put.
type ownedKey struct {
	key     string
	seq     uint64
	expires int64 // unix nanoseconds
}

var (
	_ SubjectStore = (*MemoryStore)(nil)
	_ TakeStore    = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty [MemoryStore] and starts its sweep. Call
// [MemoryStore.Close] when done with it.
func NewMemoryStore(opts ...MemoryOption) (*MemoryStore, error) {
	cfg := defaultMemoryConfig()
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
		seed:        maphash.MakeSeed(),
		shards:      make([]memoryShard, n),
		owners:      make([]ownerShard, n),
		perShard:    (cfg.maxEntries + n - 1) / n,
		maxPerOwner: cfg.maxPerOwner,
		now:         cfg.now,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]memoryEntry)
		m.owners[i].owners = make(map[string][]ownedKey)
		m.owners[i].pending = make(map[string][]ownedKey)
		m.owners[i].links = make(map[string][]ownerLink)
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

func (m *memory) ownerShard(owner string) *ownerShard {
	if len(m.owners) == 1 {
		return &m.owners[0]
	}
	return &m.owners[maphash.String(m.seed, owner)%uint64(len(m.owners))]
}

// index adds the record of a Put to its owner's index and returns the
// owner's records beyond the bound, which it has moved from the index to
// the owner's pending list: the caller deletes them, then calls unpend. The
// caller holds the lock of the record's shard.
func (m *memory) index(key string, e *memoryEntry) []ownedKey {
	owner := e.rec.Owner()
	osh := m.ownerShard(owner)
	osh.mu.Lock()
	defer osh.mu.Unlock()
	list := append(osh.owners[owner], ownedKey{key: key, seq: e.seq, expires: e.expires})
	var over []ownedKey
	for len(list) > m.maxPerOwner {
		// The one closest to expiry, the first Put among equals; never the
		// last, which is the record being put.
		i := 0
		for j := 1; j < len(list)-1; j++ {
			if list[j].expires < list[i].expires {
				i = j
			}
		}
		over = append(over, list[i])
		list = slices.Delete(list, i, i+1)
	}
	osh.owners[owner] = list
	if e.rec.Subject != "" && e.rec.OpenID != owner {
		links := osh.links[owner]
		if i := slices.IndexFunc(links, func(l ownerLink) bool { return l.openID == e.rec.OpenID }); i >= 0 {
			links[i].expires = max(links[i].expires, e.expires)
		} else {
			osh.links[owner] = append(links, ownerLink{openID: e.rec.OpenID, expires: e.expires})
		}
	}
	if len(over) > 0 {
		osh.pending[owner] = append(osh.pending[owner], over...)
	}
	return over
}

// unpend takes the records that index returned, deleted by now, off their
// owner's pending list.
func (m *memory) unpend(owner string, done []ownedKey) {
	osh := m.ownerShard(owner)
	osh.mu.Lock()
	defer osh.mu.Unlock()
	list := slices.DeleteFunc(osh.pending[owner], func(k ownedKey) bool {
		return slices.ContainsFunc(done, func(d ownedKey) bool { return d.seq == k.seq })
	})
	if len(list) == 0 {
		delete(osh.pending, owner)
	} else {
		osh.pending[owner] = list
	}
}

// unindex takes a record that leaves the store out of its owner's index.
// The caller holds the lock of the record's shard.
func (m *memory) unindex(e *memoryEntry) {
	owner := e.rec.Owner()
	osh := m.ownerShard(owner)
	osh.mu.Lock()
	defer osh.mu.Unlock()
	list := osh.owners[owner]
	i := slices.IndexFunc(list, func(k ownedKey) bool { return k.seq == e.seq })
	switch {
	case i < 0: // taken out already, by DeleteSubject or the bound
	case len(list) == 1:
		delete(osh.owners, owner)
		delete(osh.links, owner)
	default:
		osh.owners[owner] = slices.Delete(list, i, i+1)
	}
}

// deleteIndexed deletes the records of ks that are still the ones indexed
// (a Put may have replaced one since); they are out of the index already.
func (m *memory) deleteIndexed(ks []ownedKey) {
	for _, k := range ks {
		sh := m.shard(k.key)
		sh.mu.Lock()
		if e, ok := sh.entries[k.key]; ok && e.seq == k.seq {
			delete(sh.entries, k.key)
		}
		sh.mu.Unlock()
	}
}

// remove deletes the entry under key, which the caller has read from the
// shard it holds the lock of.
func (m *memory) remove(sh *memoryShard, key string, e *memoryEntry) {
	delete(sh.entries, key)
	m.unindex(e)
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
	if m.now().UnixNano() >= e.expires {
		sh.mu.Lock()
		// Remove it unless a Put replaced it meanwhile.
		if cur, ok := sh.entries[key]; ok && m.now().UnixNano() >= cur.expires {
			m.remove(sh, key, &cur)
		}
		sh.mu.Unlock()
		return nil, ErrNotFound
	}
	rec := e.rec
	return &rec, nil
}

// Put stores a copy of rec under key for ttl. When the store is full it
// evicts a record first (see [WithMaxEntries]); when the record's owner
// holds too many, it removes the owner's oldest (see [WithMaxPerSubject]).
// The context is not used.
func (s *MemoryStore) Put(_ context.Context, key string, rec *Record, ttl time.Duration) error {
	if err := CheckPut(key, rec, ttl); err != nil {
		return err
	}
	m := s.m
	now := m.now()
	e := memoryEntry{rec: *rec, expires: now.Add(ttl).UnixNano(), seq: m.seq.Add(1)}
	sh := m.shard(key)
	sh.mu.Lock()
	if old, ok := sh.entries[key]; ok {
		m.unindex(&old)
	} else if len(sh.entries) >= m.perShard {
		victim := sh.evictOne(now.UnixNano())
		ve := sh.entries[victim]
		m.remove(sh, victim, &ve)
	}
	sh.entries[key] = e
	over := m.index(key, &e)
	sh.mu.Unlock()
	if len(over) > 0 {
		m.deleteIndexed(over)
		m.unpend(e.rec.Owner(), over)
	}
	return nil
}

// evictOne picks the record to evict from a full shard: the first expired
// one among a few it samples, or else the sampled one closest to expiry.
// The caller holds the write lock.
func (sh *memoryShard) evictOne(now int64) (victim string) {
	var soonest int64
	n := 0
	for k, e := range sh.entries { // map iteration starts at a random place
		if now >= e.expires {
			return k
		}
		if n == 0 || e.expires < soonest {
			victim, soonest = k, e.expires
		}
		if n++; n == evictSample {
			break
		}
	}
	return victim
}

// Delete removes the record under key, if any. The context is not used.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	sh := s.m.shard(key)
	sh.mu.Lock()
	if e, ok := sh.entries[key]; ok {
		s.m.remove(sh, key, &e)
	}
	sh.mu.Unlock()
	return nil
}

// Take returns the record under key and removes it in one step (see
// [TakeStore]), or [ErrNotFound] when there is none or it has expired. The
// context is not used.
func (s *MemoryStore) Take(_ context.Context, key string) (*Record, error) {
	m := s.m
	sh := m.shard(key)
	sh.mu.Lock()
	e, ok := sh.entries[key]
	if ok {
		m.remove(sh, key, &e)
	}
	sh.mu.Unlock()
	if !ok || m.now().UnixNano() >= e.expires {
		return nil, ErrNotFound
	}
	rec := e.rec
	return &rec, nil
}

// DeleteSubject removes every record whose [Record.Owner] is owner, and
// the records without a subject of the openids that records of owner were
// Put with (see [SubjectStore]). The context is not used.
func (s *MemoryStore) DeleteSubject(_ context.Context, owner string) error {
	m := s.m
	now := m.now().UnixNano()
	osh := m.ownerShard(owner)
	osh.mu.Lock()
	var linked []string
	for _, l := range osh.links[owner] {
		if l.expires > now {
			linked = append(linked, l.openID)
		}
	}
	delete(osh.links, owner) // its records go now
	osh.mu.Unlock()
	m.deleteOwner(owner)
	for _, openID := range linked {
		m.deleteOwner(openID)
	}
	return nil
}

// deleteOwner removes every record whose [Record.Owner] is owner.
func (m *memory) deleteOwner(owner string) {
	osh := m.ownerShard(owner)
	osh.mu.Lock()
	// The indexed records move to the pending list until they are deleted,
	// so that a DeleteSubject running meanwhile (which finds the index
	// empty) deletes them too before it returns. The pending ones of an
	// earlier Put over the bound or DeleteSubject are deleted here as well:
	// deleting a record twice is harmless (deleteIndexed checks the seq).
	indexed := osh.owners[owner]
	delete(osh.owners, owner)
	if len(indexed) > 0 {
		osh.pending[owner] = append(osh.pending[owner], indexed...)
	}
	ks := slices.Clone(osh.pending[owner])
	osh.mu.Unlock()
	m.deleteIndexed(ks)
	if len(indexed) > 0 {
		m.unpend(owner, indexed)
	}
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

// sweep removes every expired record, one shard at a time, and the links
// of subjects to openids whose records have all expired.
func (m *memory) sweep() {
	defer m.sweepLinks()
	for i := range m.shards {
		sh := &m.shards[i]
		now := m.now().UnixNano()
		sh.mu.Lock()
		for k, e := range sh.entries {
			if now >= e.expires {
				m.remove(sh, k, &e)
			}
		}
		sh.mu.Unlock()
	}
}

// sweepLinks drops the links (see ownerShard) whose records have all
// expired.
func (m *memory) sweepLinks() {
	for i := range m.owners {
		osh := &m.owners[i]
		now := m.now().UnixNano()
		osh.mu.Lock()
		for subject, links := range osh.links {
			links = slices.DeleteFunc(links, func(l ownerLink) bool { return now >= l.expires })
			if len(links) == 0 {
				delete(osh.links, subject)
			} else {
				osh.links[subject] = links
			}
		}
		osh.mu.Unlock()
	}
}

var _ RenewStore = (*MemoryStore)(nil)

// Renew replaces the record under key with a copy of rec, for ttl from now,
// only if a record that has not expired is there; otherwise it returns
// [ErrNotFound] and stores nothing (see [RenewStore]). The record keeps its
// place in its owner's index, now with its new expiry. A rec of another
// owner than the stored record's is an error. The context is not used.
func (s *MemoryStore) Renew(_ context.Context, key string, rec *Record, ttl time.Duration) error {
	if err := CheckPut(key, rec, ttl); err != nil {
		return fmt.Errorf("session: renew: %w", err)
	}
	m := s.m
	now := m.now()
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.entries[key]
	if !ok || now.UnixNano() >= e.expires {
		return ErrNotFound
	}
	if e.rec.Owner() != rec.Owner() {
		return errors.New("session: renew: the record has another owner than the stored one")
	}
	e.rec = *rec
	e.expires = now.Add(ttl).UnixNano()
	sh.entries[key] = e
	m.reindex(&e)
	return nil
}

// reindex records the new expiry of a renewed record in its owner's index,
// so that the bound removes the owner's least recently used sessions first.
// The caller holds the lock of the record's shard.
func (m *memory) reindex(e *memoryEntry) {
	osh := m.ownerShard(e.rec.Owner())
	osh.mu.Lock()
	defer osh.mu.Unlock()
	owner := e.rec.Owner()
	list := osh.owners[owner]
	if i := slices.IndexFunc(list, func(k ownedKey) bool { return k.seq == e.seq }); i >= 0 {
		list[i].expires = e.expires
	}
	// The subject's link to the openid lives as long as its last record.
	links := osh.links[owner]
	if i := slices.IndexFunc(links, func(l ownerLink) bool { return l.openID == e.rec.OpenID }); i >= 0 {
		links[i].expires = max(links[i].expires, e.expires)
	}
}
