package session

import (
	"sync"
	"time"
)

// FakeClock is a settable clock for the tests of this package (internal and
// external).
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a clock set to a fixed instant.
func NewFakeClock() *FakeClock { return &FakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ExpiredGrace exposes expiredGrace.
const ExpiredGrace = expiredGrace
