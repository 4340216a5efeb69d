package account_test

import (
	"testing"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/accounttest"
)

func BenchmarkResolveMemory(b *testing.B) {
	accounttest.Benchmark(b, account.NewMemoryStore())
}
