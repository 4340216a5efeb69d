// Package tokenstoretest checks that a [wxauth.TokenStore] keeps the
// contract documented on [wxauth.TokenStore] and [wxauth.TokenLease], in the
// style of testing/fstest.TestFS and golang.org/x/net/nettest.TestConn.
// wxauth runs it on [wxauth.MemoryTokenStore] and wxauth/redistoken on its
// Redis store; run it on yours (etcd, MySQL, ...) from a test of your own:
//
//	func TestTokenStore(t *testing.T) {
//		tokenstoretest.Run(t, func(t *testing.T) func() wxauth.TokenStore {
//			prefix := uniqueKeyPrefix(t) // a fresh, empty backend for this subtest
//			return func() wxauth.TokenStore { // one more server of the fleet
//				s, err := mystore.New(dialTestServer(t), mystore.WithKeyPrefix(prefix))
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			}
//		})
//	}
//
// [Run] calls the function it is given once per subtest, with the subtest's
// t, to set up a fresh, empty backend (a new key prefix, table or
// namespace), and calls the function that returns once for every store
// instance the subtest needs. Two instances on one backend play two servers
// of a fleet: for a store in one process's memory both may be the same
// value; for a networked store each should be a new client, so that a
// subtest checks what one server sees of another's locks and tokens.
//
// # What it checks
//
//   - Load of an appid with nothing stored returns nil and no error.
//   - A token saved through a lease loads back, from every instance, with
//     its AccessToken, IssuedAt and ExpiresAt (times are compared with
//     time.Time.Equal and are whole milliseconds, so a store may keep
//     milliseconds); zero times (a token that never expires) load back as
//     zero; a later Save replaces it, and the store keeps a copy, not the
//     caller's pointer.
//   - Tokens and locks of different appids do not touch each other.
//   - Delete removes the token only if it is still the one named, and is not
//     an error when there is nothing to delete.
//   - A token whose ExpiresAt has passed loads as nil, whether it was saved
//     expired or expired after it was saved (this waits for a token of a few
//     hundred milliseconds to expire).
//   - Save of a nil token or of an empty AccessToken fails, with an error
//     that is not [wxauth.ErrLeaseLost], and stores nothing.
//   - TryLock is exclusive across instances (one winner among many
//     concurrent callers, not reentrant), per appid, released by Unlock,
//     expires by itself after its ttl, and fails for a ttl <= 0.
//   - A lease whose lock expired (a 50ms ttl) or was released cannot Save:
//     the error matches [wxauth.ErrLeaseLost] and the token in the store is
//     the one saved before, or the newer one of the lock's next holder.
//   - Unlock by a lease whose lock expired or was released is not an error
//     and does not release the next holder's lock.
//   - A lease can be used from several goroutines at once.
//
// The subtests run in parallel with each other (t.Parallel) and take real
// time, tens to hundreds of milliseconds, as locks and tokens expire; the
// whole suite takes well under a second on a local backend. What a store
// does on its own terms (how it encodes a token, what it reads from a
// corrupted record, its size limits, its errors' text) is for its own tests.
//
// This package is for tests: it fails the [testing.T] it is given, and it
// uses github.com/stretchr/testify, which only the tests that import it
// then depend on.
package tokenstoretest
