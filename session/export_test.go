package session

import (
	"time"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// FakeClock is the manual clock of package wxauthtest, for the tests of
// this package (internal and external).
type FakeClock = wxauthtest.Clock

// NewFakeClock returns a clock set to a fixed instant.
func NewFakeClock() *FakeClock {
	return wxauthtest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

// ExpiredGrace exposes expiredGrace.
const ExpiredGrace = expiredGrace
