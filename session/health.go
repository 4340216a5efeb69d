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

// The Manager's view of its store's health, which keeps an outage from
// spending users' login codes and from flooding the log.
//
// Every store call the Manager makes is bounded by the store timeout
// ([WithStoreTimeout]). A call that fails with [ErrStoreUnavailable] while
// the store was up marks it down and logs one Error line with that first
// cause; later failures are only counted. The first call that gets an answer
// again (a record, or [ErrNotFound]) marks it up and logs one Warn line with
// the number of calls failed or refused in between and the outage's length.
//
// A login spends its wx.login code at WeChat before the token is stored, and
// a code works once: a login answered 503 after code2session has lost it.
// So [LoginHandler] asks [Manager.loginGate] first. While the store is
// known to be down, the gate answers 503 store_unavailable at once, and the
// code is kept for the retry. Every storeProbeEvery one login probes the
// store (a Get of a key no token has) instead; the logins arriving during
// the probe wait for its outcome. When the store has not answered for
// storeFreshFor (an idle server, or a store that has just frozen), the
// login probes before it spends its code too. Logins already past the gate
// when the store fails still lose their codes: those that arrived before the
// first failure was seen (a store timeout after it began) and within
// storeFreshFor of the store's last answer.
const (
	storeFreshFor   = time.Second
	storeProbeEvery = time.Second
)

// maxAbandoned bounds the store calls that went past their timeout and are
// still running (a store that ignores its context): beyond it, calls fail
// at once instead of adding a goroutine each to the pile.
const maxAbandoned = 1024

// errTooManyHung is the failure of a call refused by maxAbandoned.
var errTooManyHung = fmt.Errorf("session: %d store calls still running past their timeout: %w", maxAbandoned, ErrStoreUnavailable)

// probeKey is the key the Manager reads to probe its store. It is no hex
// SHA-256, so no token's record is ever stored under it.
const probeKey = "miniauth-health-probe"

type health struct {
	down      atomic.Bool
	lastOK    atomic.Int64 // unix nanoseconds of the last answer from the store
	abandoned atomic.Int64 // calls past their timeout still running

	mu      sync.Mutex
	since   time.Time     // when the outage was seen
	refused int           // store calls failed and logins refused since
	next    time.Time     // when the login gate probes the store again
	probe   chan struct{} // closed when the running probe ends; nil when none runs
}

// errKnownDown is the refusal of a login while the store is known to be down.
var errKnownDown = fmt.Errorf("session: login: the store is down; the login code was not spent: %w", ErrStoreUnavailable)

// storeResult is the outcome of one store call.
type storeResult struct {
	rec      *Record
	err      error
	panicked any // what the call panicked with, if it did
}

// storeCall runs one call f of the store, bounded by the store timeout, and
// records its outcome in the Manager's health. f gets a context that ends at
// the timeout; when f has not returned by then, storeCall returns
// [ErrStoreUnavailable] without waiting for it: clients such as go-redis
// ignore context deadlines unless told otherwise (ContextTimeoutEnabled),
// and a store must not hold a request for its client's own timeouts and
// retries. Such a call goes on in the background until the store returns,
// and its outcome is dropped; while maxAbandoned such calls run, new calls
// fail at once. A panic in f is re-raised in the caller, or logged when the
// caller has gone. The calls of [MemoryStore], which never
// waits on I/O, run as they are.
func (m *Manager) storeCall(ctx context.Context, op string, f func(context.Context) (*Record, error)) (*Record, error) {
	if !m.bounded {
		return f(ctx)
	}
	if m.inline {
		// The store returns by its context's deadline (ContextStore): no
		// goroutine to hand the call to and to abandon.
		sctx, cancel := context.WithTimeout(ctx, m.cfg.storeTimeout)
		defer cancel()
		rec, err := f(sctx)
		return m.storeOutcome(ctx, sctx, op, storeResult{rec: rec, err: err})
	}
	if m.health.abandoned.Load() >= maxAbandoned {
		m.storeFailed(ctx, op, errTooManyHung)
		return nil, errTooManyHung
	}
	sctx, cancel := context.WithTimeout(ctx, m.cfg.storeTimeout)
	defer cancel()
	done := make(chan storeResult, 1)
	var claimed atomic.Bool // by the first of the call returning and the caller giving up
	go func() {
		var res storeResult
		defer func() {
			if v := recover(); v != nil {
				res.panicked = v
			}
			if claimed.CompareAndSwap(false, true) {
				done <- res
				return
			}
			m.health.abandoned.Add(-1)
			if res.panicked != nil {
				m.cfg.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, "session: store call panicked after its timeout",
					slog.String("op", op), slog.Any("panic", res.panicked))
			}
		}()
		res.rec, res.err = f(sctx)
	}()
	var res storeResult
	select {
	case res = <-done:
	case <-sctx.Done():
		if claimed.CompareAndSwap(false, true) {
			m.health.abandoned.Add(1)
			res.err = sctx.Err()
		} else {
			res = <-done // it answered just in time
		}
	}
	if res.panicked != nil {
		panic(res.panicked)
	}
	return m.storeOutcome(ctx, sctx, op, res)
}

// storeOutcome records the outcome res of the store call op, made under
// sctx (ctx bounded by the store timeout), in the Manager's health, and
// returns it; a call that ran out of time is [ErrStoreUnavailable].
func (m *Manager) storeOutcome(ctx, sctx context.Context, op string, res storeResult) (*Record, error) {
	if ctx.Err() != nil {
		return res.rec, res.err // the caller went away: that says nothing of the store
	}
	if res.err != nil && sctx.Err() != nil && !errors.Is(res.err, ErrStoreUnavailable) {
		res.err = fmt.Errorf("%w: no answer within %s: %w", ErrStoreUnavailable, m.cfg.storeTimeout, res.err)
	}
	if errors.Is(res.err, ErrStoreUnavailable) {
		m.storeFailed(ctx, op, res.err)
	} else {
		m.storeAnswered(ctx)
	}
	return res.rec, res.err
}

// storeAnswered records that the store answered a call.
func (m *Manager) storeAnswered(ctx context.Context) {
	h := &m.health
	now := m.cfg.now()
	if !h.down.Load() {
		// Write the shared word only now and then: this runs on every request.
		if n := now.UnixNano(); n-h.lastOK.Load() > int64(storeFreshFor/16) {
			h.lastOK.Store(n)
		}
		return
	}
	h.mu.Lock()
	if !h.down.Load() {
		h.mu.Unlock()
		return
	}
	h.down.Store(false)
	h.lastOK.Store(now.UnixNano())
	refused, since := h.refused, h.since
	h.mu.Unlock()
	m.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "session: store available again",
		slog.Int("refused", refused), slog.Duration("outage", now.Sub(since)))
	m.observeOutage(ctx, storeDependency, "", false, now.Sub(since), refused)
}

// storeFailed records a call that failed with [ErrStoreUnavailable].
func (m *Manager) storeFailed(ctx context.Context, op string, err error) {
	h := &m.health
	now := m.cfg.now()
	h.mu.Lock()
	if h.down.Load() {
		h.refused++
		h.mu.Unlock()
		return
	}
	h.down.Store(true)
	h.since, h.refused, h.next = now, 1, now.Add(storeProbeEvery)
	h.mu.Unlock()
	m.cfg.logger.LogAttrs(ctx, slog.LevelError, "session: store unavailable",
		slog.String("op", op), slog.String("error", err.Error()),
		slog.Duration("timeout", m.cfg.storeTimeout))
	m.observeOutage(ctx, storeDependency, op, true, 0, 0)
}

// storeKnownDown reports whether the store is known to be down: its last
// call failed with [ErrStoreUnavailable] and nothing has answered since.
func (m *Manager) storeKnownDown() bool { return m.health.down.Load() }

// storeReady reports whether a login may spend its code: nil when the store
// answered within storeFreshFor or answers a probe now, an error wrapping
// [ErrStoreUnavailable] when it is known to be down, the context's error
// when the caller went away while waiting for another login's probe.
func (m *Manager) storeReady(ctx context.Context) error {
	if !m.bounded || m.err != nil {
		return nil
	}
	h := &m.health
	now := m.cfg.now()
	if !h.down.Load() && now.UnixNano()-h.lastOK.Load() < int64(storeFreshFor) {
		return nil
	}
	h.mu.Lock()
	probe := h.probe
	if probe == nil && h.down.Load() && now.Before(h.next) {
		h.refused++
		h.mu.Unlock()
		return errKnownDown
	}
	if probe == nil {
		probe = make(chan struct{})
		h.probe = probe
		h.next = now.Add(storeProbeEvery)
		h.mu.Unlock()
		// The probe's outcome is every waiting login's: it must not end
		// because this one's client went away. It ends even when the
		// store's call panics (re-raised here): a probe left running would
		// hold every later login until its client gives up.
		func() {
			defer func() {
				h.mu.Lock()
				h.probe = nil
				h.mu.Unlock()
				close(probe)
			}()
			_, _ = m.storeCall(context.WithoutCancel(ctx), "probe", func(ctx context.Context) (*Record, error) {
				return m.store.Get(ctx, probeKey)
			})
		}()
		if h.down.Load() {
			return errKnownDown
		}
		return nil
	}
	h.mu.Unlock()
	select {
	case <-probe:
	case <-ctx.Done():
		return ctx.Err()
	}
	if h.down.Load() {
		h.mu.Lock()
		h.refused++
		h.mu.Unlock()
		return errKnownDown
	}
	return nil
}

// loginGate is what [LoginHandler] (and any handler that spends a
// single-use WeChat code before it stores a session) asks before it spends
// the code: nil to go on, or the answer to give instead, 503
// store_unavailable while the store is known to be down (see storeReady).
//
// It asks the same of the login path's other dependencies (guard.go): while
// one is known to be down, the answer is 503 store_unavailable too.
func (m *Manager) loginGate(ctx context.Context) *HTTPError {
	if err := m.storeReady(ctx); err != nil {
		return m.tokenError(gateError(err))
	}
	if err := m.dependenciesReady(ctx); err != nil {
		return m.tokenError(gateError(err))
	}
	return nil
}
