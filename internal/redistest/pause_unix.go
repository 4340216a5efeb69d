//go:build unix

package redistest

import (
	"syscall"
	"testing"
)

// Pause freezes the server (SIGSTOP): it keeps its connections and its
// port but answers nothing, as a Redis that hangs does. Where there are no
// such signals (Windows) the test is skipped.
func (p *Proc) Pause(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP redis-server: %v", err)
	}
}

// Resume undoes [Proc.Pause] (SIGCONT).
func (p *Proc) Resume(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT redis-server: %v", err)
	}
}
