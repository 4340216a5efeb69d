package sqlstore_test

import (
	"testing"

	"github.com/wxmp/miniauth/account/accounttest"
)

// BenchmarkResolve measures Resolve on each database; the servers' are
// skipped without their DSN (see TestConformance).
func BenchmarkResolve(b *testing.B) {
	for _, dl := range dialects {
		b.Run(dl.name, func(b *testing.B) {
			accounttest.Benchmark(b, newStore(b, dl.open(b), dl.d))
		})
	}
}
