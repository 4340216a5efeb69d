package account_test

import (
	"testing"

	"github.com/wxmp/miniauth/session/account"
	"github.com/wxmp/miniauth/session/account/accounttest"
)

func BenchmarkResolveMemory(b *testing.B) {
	accounttest.Benchmark(b, account.NewMemoryStore())
}
