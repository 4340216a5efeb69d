package accounttest

import (
	"context"
	"fmt"
	"testing"

	"github.com/wxmp/miniauth/account"
)

// Benchmark measures [account.Linker.Resolve] on store, in sub-benchmarks:
//
//	known  a returning user: the openid is bound (the common login)
//	new    a new user each time: a new openid and phone, created and bound
//
// Run it with -benchmem for allocs/op. The store should be empty and is
// filled with b.N users.
func Benchmark(b *testing.B, store account.Store) {
	ctx := context.Background()
	run := newRun()
	linker := account.NewLinker(store)
	id := func(i int) account.Identity {
		return account.Identity{AppID: "wxbench0000000000", OpenID: fmt.Sprintf("o-%s-%d", run, i),
			Phone: fmt.Sprintf("+86 13%09d", i), PhoneBound: true}
	}
	b.Run("known", func(b *testing.B) {
		known := id(-1)
		known.Phone = "+8613900000000"
		if _, _, err := linker.Resolve(ctx, known); err != nil {
			b.Fatal(err)
		}
		known.Phone = ""
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, _, err := linker.Resolve(ctx, known); err != nil {
				b.Fatal(err)
			}
		}
	})
	next := 0 // b.Run calls the function several times: ids never repeat
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			next++
			if _, created, err := linker.Resolve(ctx, id(next)); err != nil || !created {
				b.Fatal(created, err)
			}
		}
	})
}
