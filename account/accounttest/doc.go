// Package accounttest checks an implementation of [account.Store] against
// the contract of that interface and the rules of [account.Linker], in the
// style of session/storetest: whoever writes a store calls [Run] from a test
// and gets the checks that the memory store and package sqlstore pass.
//
//	func TestMyStore(t *testing.T) {
//		accounttest.Run(t, func(t *testing.T) account.Store {
//			return mystore.New(freshDatabase(t))
//		})
//	}
//
// Run calls the function once per subtest, and the subtests run in
// parallel: each call must return an empty store that shares no links with
// the others (a fresh database or schema), and register with t.Cleanup what
// closes it. Run the test with -race.
//
// # What it checks
//
//   - Each rule of [account.Linker.Resolve]: a known openid; a unionid that
//     binds another app's openid; a phone that binds an openid to its user,
//     or is taken ([account.ErrPhoneTaken]); a new user for a new phone; a
//     phone-less unknown login that creates nothing ([account.ErrNotFound]);
//     a phone bound to a known user who has none, and only then.
//   - Phones in any accepted form are one phone; openids differing only in
//     case are two (a store must compare bytes, not a collation).
//   - Unbind and Delete remove the user's links and no one else's.
//   - A failing callback, or an invalid user id from it, leaves no link.
//   - The [account.Tx] contract itself: refused binds are
//     [account.ErrTaken] and the transaction commits after them; reads see
//     the transaction's writes; an Update whose function fails keeps none
//     of them; Links are sorted.
//   - Races, each with 100 goroutines: one new phone with 100 openids of one
//     app ends with 1 user and 99 ErrPhoneTaken; one new openid with one
//     phone ends with 1 user; no other error.
//   - A cancelled context fails with an error matching context.Canceled.
//   - No error text quotes a phone.
//
// Package accounttest is for tests only: it imports testing and testify.
package accounttest
