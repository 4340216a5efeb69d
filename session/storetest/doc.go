// Package storetest checks an implementation of [session.Store] against the
// contract that interface documents, in the style of testing/fstest.TestFS:
// whoever writes a store (MySQL, memcached, ...) calls [Run] from a test and
// gets the same checks as the stores of this module, [session.MemoryStore]
// and package redisstore.
//
// Call Run with a function that returns a new, empty store:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) session.Store {
//			return mystore.New(db, mystore.WithTable(uniqueTable(t)))
//		})
//	}
//
// Run calls the function once per subtest, and the subtests run in parallel:
// each call must return a store that shares no records with the others (a
// fresh table, a unique key prefix) and be safe to make concurrently. Use
// t.Cleanup in it to close or drop what it made. Run the test with -race:
// one subtest calls the store from many goroutines at once.
//
// # What it checks
//
//   - Get of a key never stored returns [session.ErrNotFound] (errors.Is)
//     and a nil record, not [session.ErrStoreUnavailable].
//   - Put then Get returns every field of the [session.Record], the
//     session_key included, with times equal to the nanosecond (as
//     [session.MarshalRecord] keeps them); keys of 1 and [session.MaxKeyLen]
//     bytes work, and keys do not see each other's records.
//   - Get returns a copy: changing it changes nothing stored. Put stores a
//     copy: changing the record after Put changes nothing stored.
//   - Put replaces the record under a key, and its TTL.
//   - Delete removes the record under a key and no other; deleting a key that
//     holds nothing is not an error.
//   - A record Put with a TTL of 50 ms reads ErrNotFound after it (in real
//     time, waiting up to 3 s), while a record with a longer TTL is still
//     there.
//   - Put refuses, with an error, what [session.CheckPut] refuses: an empty
//     key, a key over MaxKeyLen bytes, a nil record, a record without an
//     OpenID or with a field over 256 bytes, a TTL that is not positive. It
//     stores nothing then, and leaves a record already under the
//     key as it was.
//   - Put, Get and Delete called from many goroutines at once on the same
//     keys never return a mix of two records, and a key written by one
//     goroutine alone reads back what it wrote.
//   - When the store is a [session.SubjectStore] (what [session.Manager.RevokeAll]
//     needs; the subtests are skipped for other stores): DeleteSubject
//     removes the records whose [session.Record.Owner] is the subject (its
//     Subject, or its OpenID when it has no Subject), and the records
//     without a Subject of an openid that a record of the subject has (the
//     sessions from before the openid was bound), and no others: not a
//     record bound to another subject whose OpenID is the string, nor a
//     record whose key a Put gave to another owner. Deleting a subject that
//     holds nothing is not an error, and Put works for the subject after.
//     Many goroutines putting records and deleting two subjects they share
//     never see a record Put before their DeleteSubject after it returns,
//     and records of other owners stay. A store that bounds the records of
//     one owner must allow at least four here.
//   - When the store is a [session.RenewStore] (what
//     [session.WithIdleTimeout] needs; the subtests are skipped for other
//     stores): Renew replaces the record and its TTL (a record renewed past
//     the TTL of its Put is still there after it); it returns
//     [session.ErrNotFound] and stores nothing for a key never stored, a
//     record past its TTL, or one that Delete or DeleteSubject removed; it
//     refuses what Put refuses; a renewed record stays reachable by
//     DeleteSubject past the TTL of its Put, and so do the sessions its
//     openid held before the bind; goroutines renewing a record
//     while another deletes it never bring it back once the delete
//     returned. A [session.Manager] with an idle timeout on the store walks
//     a token through its life with the Manager's clock (no write within a
//     tenth of the idle timeout, renewal, idle expiry, the absolute end),
//     and goroutines using tokens, renewing them, while the tokens are
//     revoked (Revoke, or RevokeAll) never see a token used after its
//     revocation returned, nor its record come back.
//   - When the store is a [session.TakeStore] (what keeps
//     [session.PhoneHandler] to one token per bind; the subtests are skipped
//     for other stores): Take returns the record Put and removes it, a
//     second Take and a Take of a key never stored or of an expired record
//     are ErrNotFound, a record put back after Take is ended by its owner's
//     DeleteSubject, and of 8 goroutines that Take one key at once exactly
//     one gets the record (50 times).
//
// A passing store runs the suite in well under a second. It does not check
// what only the store's own tests can: that an unreachable store fails with
// [session.ErrStoreUnavailable] rather than ErrNotFound (stop the server in
// a test of your own), how records are encoded, or limits of the store's
// own.
//
// Package storetest is for tests only: it imports testing and
// github.com/stretchr/testify, which therefore end up in the test binaries
// that use it, and never in a program that imports only package session.
package storetest
