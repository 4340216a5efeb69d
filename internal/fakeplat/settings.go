package fakeplat

import (
	"crypto/subtle"
	"errors"
	"time"
)

// Settings are the options every fake takes: its clock, its latency and,
// for a fake that limits code exchanges, a rate limit. A fake embeds them
// in its config, and its options set them through the methods, which
// validate and name the fake in their errors.
type Settings struct {
	// Name is the fake's package, such as "qqauthtest", for errors.
	Name string
	// Now is the fake's clock (default time.Now).
	Now func() time.Time
	// Latency delays every reply by real time.
	Latency time.Duration
	// RateLimit is how many codes one user may exchange in a sliding
	// minute (0: no limit).
	RateLimit int
}

// SetClock sets the clock, which must not be nil.
func (s *Settings) SetClock(now func() time.Time) error {
	if now == nil {
		return errors.New(s.Name + ": clock must not be nil")
	}
	s.Now = now
	return nil
}

// SetLatency sets the latency, which must not be negative.
func (s *Settings) SetLatency(d time.Duration) error {
	if d < 0 {
		return errors.New(s.Name + ": latency must not be negative")
	}
	s.Latency = d
	return nil
}

// SetRateLimit sets the rate limit, which must be positive.
func (s *Settings) SetRateLimit(perMinute int) error {
	if perMinute <= 0 {
		return errors.New(s.Name + ": rate limit must be positive")
	}
	s.RateLimit = perMinute
	return nil
}

// Apply applies a fake's options to its config c in order, skipping nil
// ones, and returns the first error one reports.
func Apply[C any, O ~func(*C) error](c *C, opts []O) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return err
		}
	}
	return nil
}

// CheckApp is the check every fake's constructor makes: an app needs an id
// and a secret.
func CheckApp(name, idName, secretName, id, secret string) error {
	if id == "" || secret == "" {
		return errors.New(name + ": " + idName + " and " + secretName + " must not be empty")
	}
	return nil
}

// CredState is what [Credentials] found.
type CredState int

// States of the app credentials a request carries, in the order a platform
// checks them.
const (
	CredOK        CredState = iota // the app's id and secret
	CredNoID                       // no id
	CredBadID                      // another app's id
	CredNoSecret                   // no secret
	CredBadSecret                  // a wrong secret
)

// Credentials checks the id and secret a request carries against the app's,
// the secret in constant time.
func Credentials(id, secret, wantID, wantSecret string) CredState {
	switch {
	case id == "":
		return CredNoID
	case id != wantID:
		return CredBadID
	case secret == "":
		return CredNoSecret
	case subtle.ConstantTimeCompare([]byte(secret), []byte(wantSecret)) != 1:
		return CredBadSecret
	}
	return CredOK
}

// ErrText returns a fake's text for an error code, or "injected error" for
// a code it has none for (one a test passed to FailNext).
func ErrText[K comparable](texts map[K]string, code K) string {
	if msg, ok := texts[code]; ok {
		return msg
	}
	return "injected error"
}
