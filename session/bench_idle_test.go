package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/session"
)

// BenchmarkValidateSliding compares Validate on the memory store without an
// idle timeout (as BenchmarkValidate/serial), with one but no renewal due
// (the clock stands still: the common case, a token used within a tenth of
// its idle timeout), with a renewal on every use (the clock moves a tenth
// of the idle timeout between uses: the worst case), and with a record
// check that lets everyone through.
func BenchmarkValidateSliding(b *testing.B) {
	ctx := context.Background()
	const idle = 30 * time.Minute
	for _, tc := range []struct {
		name string
		step time.Duration // the clock moves this much before each Validate
		opts []session.Option
	}{
		{"plain", 0, nil},
		{"idle-no-renewal", 0, []session.Option{session.WithIdleTimeout(idle)}},
		{"idle-renewal-every-use", idle / 10, []session.Option{session.WithIdleTimeout(idle), session.WithTTL(session.MaxTTL)}},
		{"record-check", 0, []session.Option{session.WithRecordCheck(func(context.Context, *session.Record) error { return nil })}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			clk := session.NewFakeClock()
			ms, err := session.NewMemoryStore(session.WithMemoryClock(clk.Now))
			if err != nil {
				b.Fatal(err)
			}
			defer ms.Close()
			m := session.NewManager(ms, append([]session.Option{session.WithClock(clk.Now)}, tc.opts...)...)
			if err := m.Err(); err != nil {
				b.Fatal(err)
			}
			tokens := benchTokens(b, m, 1024)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if tc.step > 0 && i%len(tokens) == 0 {
					clk.Advance(tc.step)
				}
				if _, err := m.Validate(ctx, tokens[i%len(tokens)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkValidateIdleRatio runs Validate with an idle timeout and no
// renewal due against today's Validate (no idle timeout) as its floor, in
// alternating batches of the same run (testutil.CompareToFloor): the
// "impl/floor" metric is their ratio, which stays steady on a noisy
// machine.
func BenchmarkValidateIdleRatio(b *testing.B) {
	ctx := context.Background()
	clk := session.NewFakeClock()
	newM := func(opts ...session.Option) (*session.Manager, []string) {
		m := session.NewManager(nil, append([]session.Option{session.WithClock(clk.Now)}, opts...)...)
		if err := m.Err(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = m.Close() })
		return m, benchTokens(b, m, 1024)
	}
	idle, idleTokens := newM(session.WithIdleTimeout(30 * time.Minute))
	plain, plainTokens := newM()
	validate := func(m *session.Manager, tokens []string) func() error {
		i := 0
		return func() error {
			_, err := m.Validate(ctx, tokens[i%len(tokens)])
			i++
			return err
		}
	}
	testutil.CompareToFloor(b, 200, validate(idle, idleTokens), validate(plain, plainTokens))
}
