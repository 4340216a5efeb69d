//go:build !unix

package redistest

import "testing"

// Pause would freeze the server; without SIGSTOP it skips the test.
func (p *Proc) Pause(t testing.TB) {
	t.Helper()
	t.Skip("redistest: freezing redis-server needs SIGSTOP (unix)")
}

// Resume undoes [Proc.Pause].
func (p *Proc) Resume(testing.TB) {}
