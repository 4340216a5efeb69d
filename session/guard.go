package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The guard of the login path's dependencies other than the session store
// (whose own guard is in health.go): the account database, and whatever the
// application's login hook calls.
//
// A login spends its wx.login code, and often a billed phone code, before
// the hook runs; a hook that fails then has cost the user both. So the
// Manager keeps a dependency's state, as it keeps its store's:
//
//   - A dependency is known to the Manager because it was registered
//     ([WithDependency]) or because the hook failed with an
//     [*UnavailableError] that names it (package account's OnLogin does,
//     with the account store's readiness probe): from then on it is
//     guarded.
//   - The hook runs under the dependency timeout ([WithDependencyTimeout]),
//     so a frozen database costs one wait of it and a 503, not the whole
//     freeze.
//   - An [*UnavailableError] (or a hook that did not return in time) marks
//     the dependency down and logs one Error line with that first cause;
//     while it is down, [LoginHandler] and [PhoneHandler] refuse at once,
//     503 store_unavailable, before they spend any code, and only count the
//     refusal. A background probe (the dependency's readiness check, every
//     depProbeEvery, bounded by the dependency timeout) marks it up again and
//     logs one Warn line with the number of logins refused and the outage's
//     length. A dependency without a probe lets one login through every
//     depProbeEvery as its probe: that login's codes are at stake.
//   - A dependency with a probe that has not been seen to work within
//     storeFreshFor (an idle server, or a database that has just frozen)
//     is probed before a login spends its codes; logins arriving meanwhile
//     wait for that probe's outcome.

// depProbeEvery is how often a dependency known to be down is probed.
const depProbeEvery = time.Second

// DefaultDependencyTimeout is how long the [Manager] waits for one call of
// the login hook, or one readiness probe of a dependency, by default (see
// [WithDependencyTimeout]).
const DefaultDependencyTimeout = time.Second

// maxDependencies bounds the dependencies a Manager tracks: names come from
// the hook's errors, and a hook that made up a name for each failure must
// not grow the Manager without bound.
const maxDependencies = 64

// maxDependencyName caps the name of a dependency.
const maxDependencyName = 64

// hookDependency is the name under which the Manager tracks a login hook
// that did not return within the dependency timeout.
const hookDependency = "login hook"

// ErrDependencyUnavailable is what an [*UnavailableError] matches: a
// dependency of the login path other than the session store (the account
// database, a service the login hook calls) cannot serve.
var ErrDependencyUnavailable = errors.New("session: a dependency of the login path is unavailable")

// UnavailableError is the error with which a [WithOnLogin] hook reports that
// a dependency it needs is down or did not answer in time (package account's
// OnLogin returns one when its store fails). The handler answers 503, and
// the [Manager] guards the dependency from then on: it logs the outage once,
// refuses logins before they spend their codes while it lasts, and probes
// the dependency with Ready until it answers.
//
// It matches [ErrDependencyUnavailable] and Err with [errors.Is].
type UnavailableError struct {
	// Dependency names the dependency in logs ("account store"): 1 to 64
	// bytes. Errors of one name are one dependency's.
	Dependency string
	// Ready reports whether the dependency can serve: nil when it can. It
	// must honor its context, which ends after the dependency timeout. A
	// dependency registered with [WithDependency] under the same name keeps
	// its own probe. When neither gives one, the Manager lets one login
	// through every second to find out.
	Ready func(ctx context.Context) error
	// Err is the cause, for logs.
	Err error
}

// Error returns "session: <dependency> unavailable: <cause>".
func (e *UnavailableError) Error() string {
	s := "session: " + e.Dependency + " unavailable"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns [ErrDependencyUnavailable] and the cause.
func (e *UnavailableError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDependencyUnavailable}
	}
	return []error{ErrDependencyUnavailable, e.Err}
}

// WithDependency registers a dependency of the login path that the login
// hook ([WithOnLogin]) relies on, such as the application's own database,
// with its readiness probe: ready returns nil when the dependency can serve,
// and must honor its context, which ends after the dependency timeout
// ([WithDependencyTimeout]). Registered, it is probed before a login spends
// its codes when it has not been seen to work for a second, and its outage
// is guarded from its first failure (see [UnavailableError]). The hook
// reports the dependency's failures as an [*UnavailableError] with the same
// name. name is 1 to 64 bytes; registering a name twice is an error.
//
// Package account's OnLogin reports its store's failures on its own, with
// its probe (account.Linker.Ready); registering the store too ("account
// store", l.Ready) makes it probed from the first login.
func WithDependency(name string, ready func(ctx context.Context) error) Option {
	return func(c *config) error {
		switch {
		case name == "" || len(name) > maxDependencyName:
			return fmt.Errorf("session: dependency name must be 1 to %d bytes", maxDependencyName)
		case ready == nil:
			return errors.New("session: dependency " + name + ": nil readiness probe")
		}
		for _, d := range c.dependencies {
			if d.name == name {
				return errors.New("session: dependency " + name + " registered twice")
			}
		}
		c.dependencies = append(c.dependencies, registered{name: name, ready: ready})
		return nil
	}
}

// WithDependencyTimeout bounds each call of the login hook ([WithOnLogin])
// and each readiness probe of a dependency, from 10 ms to one minute
// (default [DefaultDependencyTimeout]). The hook's context ends after d; a
// hook not done by then is answered 503 and counted as an outage of the
// hook's dependencies, whether or not it honors its context.
func WithDependencyTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond || d > time.Minute {
			return errors.New("session: dependency timeout must be between 10ms and 1m")
		}
		c.depTimeout = d
		return nil
	}
}

// registered is a dependency given to [WithDependency].
type registered struct {
	name  string
	ready func(context.Context) error
}

// dependency is the state of one guarded dependency.
type dependency struct {
	name   string
	ready  func(context.Context) error // nil: a login is the probe
	down   atomic.Bool
	lastOK atomic.Int64 // unix nanoseconds of the last sign of life

	mu      sync.Mutex
	since   time.Time     // when the outage was seen
	refused int           // logins failed or refused since
	next    time.Time     // without ready: when the next login may pass as the probe
	probe   chan struct{} // closed when the running freshness probe ends
}

// guard is the Manager's set of dependencies.
type guard struct {
	mu        sync.Mutex
	deps      atomic.Pointer[[]*dependency] // copy on write; read on every login
	abandoned atomic.Int64                  // hook calls and probes past their timeout still running
	stop      chan struct{}                 // closed by Manager.Close: background probes end
	stopOnce  sync.Once

	rateLimited  burst // WeChat's 45011 for the app (burst.go)
	foreignPhone burst // getuserphonenumber's 40013
}

// newGuard returns the guard of the dependencies reg.
func newGuard(reg []registered) *guard {
	g := &guard{stop: make(chan struct{})}
	list := make([]*dependency, 0, len(reg))
	for _, r := range reg {
		list = append(list, &dependency{name: r.name, ready: r.ready})
	}
	g.deps.Store(&list)
	return g
}

func (g *guard) list() []*dependency {
	if g == nil {
		return nil
	}
	return *g.deps.Load()
}

func (g *guard) close() {
	if g != nil {
		g.stopOnce.Do(func() { close(g.stop) })
	}
}

// dependency returns the dependency named name, adding it with ready when
// it is new; nil when the Manager tracks too many already.
func (g *guard) dependency(name string, ready func(context.Context) error) *dependency {
	for _, d := range g.list() {
		if d.name == name {
			return d
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old := *g.deps.Load()
	for _, d := range old {
		if d.name == name {
			return d
		}
	}
	if len(old) >= maxDependencies {
		return nil
	}
	d := &dependency{name: name, ready: ready}
	list := append(append(make([]*dependency, 0, len(old)+1), old...), d)
	g.deps.Store(&list)
	return d
}

// errDependencyDown is the refusal of a login while a dependency is known
// to be down.
func errDependencyDown(d *dependency) error {
	return fmt.Errorf("session: login: %s is down; no code was spent: %w: %w", d.name, ErrDependencyUnavailable, ErrStoreUnavailable)
}

// dependenciesReady reports whether a login may spend its codes as far as
// the dependencies are concerned: nil, or an error wrapping
// [ErrStoreUnavailable] when one is known to be down (or fails the probe
// made before spending), or the context's error.
func (m *Manager) dependenciesReady(ctx context.Context) error {
	now := m.cfg.now()
	for _, d := range m.guard.list() {
		if d.down.Load() {
			if d.ready == nil && d.letThrough(now) {
				continue // this login is the probe
			}
			d.countRefused()
			return errDependencyDown(d)
		}
		if d.ready == nil || now.UnixNano()-d.lastOK.Load() < int64(storeFreshFor) {
			continue
		}
		if err := m.freshnessProbe(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// letThrough reports whether a login may pass as the probe of a dependency
// without one, at most one every depProbeEvery.
func (d *dependency) letThrough(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Before(d.next) {
		return false
	}
	d.next = now.Add(depProbeEvery)
	return true
}

func (d *dependency) countRefused() {
	d.mu.Lock()
	if d.down.Load() {
		d.refused++
	}
	d.mu.Unlock()
}

// freshnessProbe probes d before a login spends its codes; the logins that
// arrive while it runs wait for its outcome.
func (m *Manager) freshnessProbe(ctx context.Context, d *dependency) error {
	d.mu.Lock()
	probe := d.probe
	if probe == nil {
		probe = make(chan struct{})
		d.probe = probe
		d.mu.Unlock()
		func() {
			defer func() {
				d.mu.Lock()
				d.probe = nil
				d.mu.Unlock()
				close(probe)
			}()
			// The outcome is every waiting login's: it must not end
			// because this one's client went away.
			if err := m.boundedCall(context.WithoutCancel(ctx), d.ready); err != nil {
				m.dependencyFailed(ctx, d, err)
			} else {
				m.dependencyAnswered(ctx, d)
			}
		}()
	} else {
		d.mu.Unlock()
		select {
		case <-probe:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if d.down.Load() {
		return errDependencyDown(d)
	}
	return nil
}

// boundedCall runs f under the dependency timeout, and returns without
// waiting for it when it has not returned by then: its outcome is then
// dropped, and it counts as abandoned until it returns. A panic in f is
// re-raised in the caller, or logged when the caller has gone.
func (m *Manager) boundedCall(ctx context.Context, f func(context.Context) error) error {
	if m.guard == nil { // a Manager whose options failed makes no calls
		return f(ctx)
	}
	if m.guard.abandoned.Load() >= maxAbandoned {
		return fmt.Errorf("session: %d calls still running past their timeout: %w", maxAbandoned, context.DeadlineExceeded)
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.depTimeout)
	defer cancel()
	// f's context ends at the timeout; f gets a little longer to return
	// from it, so that a hook that honors its context reports which
	// dependency hung (an [*UnavailableError]) instead of being abandoned
	// as a whole.
	wait, stopWait := context.WithTimeout(ctx, m.cfg.depTimeout+abandonGrace(m.cfg.depTimeout))
	defer stopWait()
	type result struct {
		err      error
		panicked any
	}
	done := make(chan result, 1)
	var claimed atomic.Bool
	go func() {
		var res result
		defer func() {
			if v := recover(); v != nil {
				res.panicked = v
			}
			if claimed.CompareAndSwap(false, true) {
				done <- res
				return
			}
			m.guard.abandoned.Add(-1)
			if res.panicked != nil {
				m.cfg.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, "session: call panicked after its timeout",
					slog.Any("panic", res.panicked))
			}
		}()
		res.err = f(cctx)
	}()
	var res result
	select {
	case res = <-done:
	case <-wait.Done():
		if claimed.CompareAndSwap(false, true) {
			m.guard.abandoned.Add(1)
			// Not cctx.Err(): the timer that ends cctx may not have run
			// yet when wait's has.
			if res.err = ctx.Err(); res.err == nil {
				res.err = context.DeadlineExceeded
			}
		} else {
			res = <-done
		}
	}
	if res.panicked != nil {
		panic(res.panicked)
	}
	if res.err != nil && ctx.Err() == nil && (cctx.Err() != nil || errors.Is(res.err, context.DeadlineExceeded)) {
		res.err = fmt.Errorf("no answer within %s: %w", m.cfg.depTimeout, res.err)
	}
	return res.err
}

// abandonGrace is how long past its timeout [Manager.boundedCall] waits for
// a call to return from its context's end: a tenth of the timeout, at most
// 200 ms.
func abandonGrace(timeout time.Duration) time.Duration {
	return min(timeout/10, 200*time.Millisecond)
}

// dependencyAnswered records that d worked.
func (m *Manager) dependencyAnswered(ctx context.Context, d *dependency) {
	now := m.cfg.now()
	if !d.down.Load() {
		if n := now.UnixNano(); n-d.lastOK.Load() > int64(storeFreshFor/16) {
			d.lastOK.Store(n)
		}
		return
	}
	d.mu.Lock()
	if !d.down.Load() {
		d.mu.Unlock()
		return
	}
	d.down.Store(false)
	d.lastOK.Store(now.UnixNano())
	refused, since := d.refused, d.since
	d.mu.Unlock()
	m.cfg.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "session: dependency available again",
		slog.String("dependency", d.name), slog.Int("refused", refused), slog.Duration("outage", now.Sub(since)))
	m.observeOutage(ctx, d.name, "", false, now.Sub(since), refused)
}

// dependenciesAnswered records that a login's hook succeeded: the
// dependencies that are up have worked (one known down stays down until
// its probe answers).
func (m *Manager) dependenciesAnswered(ctx context.Context) {
	for _, d := range m.guard.list() {
		if !d.down.Load() {
			m.dependencyAnswered(ctx, d)
		} else if d.ready == nil {
			m.dependencyAnswered(ctx, d) // this login was its probe
		}
	}
}

// dependencyFailed records that d failed with err: the first failure of an
// outage marks it down, logs it and starts its background probe.
func (m *Manager) dependencyFailed(ctx context.Context, d *dependency, err error) {
	now := m.cfg.now()
	d.mu.Lock()
	if d.down.Load() {
		d.refused++
		d.mu.Unlock()
		return
	}
	d.down.Store(true)
	d.since, d.refused, d.next = now, 1, now.Add(depProbeEvery)
	d.mu.Unlock()
	m.cfg.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, "session: dependency unavailable",
		slog.String("dependency", d.name), slog.String("error", err.Error()),
		slog.Duration("timeout", m.cfg.depTimeout))
	m.observeOutage(ctx, d.name, "", true, 0, 0)
	if d.ready != nil {
		go m.probeLoop(d)
	}
}

// probeLoop probes d every depProbeEvery until it answers or the Manager is
// closed.
func (m *Manager) probeLoop(d *dependency) {
	t := time.NewTicker(depProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-m.guard.stop:
			return
		case <-t.C:
		}
		if err := m.boundedCall(context.Background(), d.ready); err == nil {
			m.dependencyAnswered(context.Background(), d)
			return
		}
		d.mu.Lock()
		up := !d.down.Load()
		d.mu.Unlock()
		if up {
			return
		}
	}
}

// hookFailed records an outage that the login hook reported (an
// [*UnavailableError]) or showed (it did not return in time).
func (m *Manager) hookFailed(ctx context.Context, err error) {
	name, ready := hookDependency, (func(context.Context) error)(nil)
	var ue *UnavailableError
	if errors.As(err, &ue) && ue.Dependency != "" && len(ue.Dependency) <= maxDependencyName {
		name, ready = ue.Dependency, ue.Ready
	}
	d := m.guard.dependency(name, ready)
	if d == nil {
		m.cfg.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, "session: dependency unavailable (too many dependencies to track)",
			slog.String("dependency", name), slog.String("error", err.Error()))
		return
	}
	m.dependencyFailed(ctx, d, err)
}
