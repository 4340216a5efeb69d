package tokenstoretest_test

import (
	"testing"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/tokenstoretest"
)

// A store's author runs the suite from a test of the store's package. The
// function given to Run sets up a fresh, empty backend for each subtest and
// returns how to open a store instance on it. For a store in the memory of
// one process, every instance of a fleet is the same value; a networked
// store would open a new client on a key prefix unique to the subtest.
func ExampleRun() {
	// In a _test.go file: func TestMemoryTokenStore(t *testing.T) { ... }
	testMemoryTokenStore := func(t *testing.T) {
		tokenstoretest.Run(t, func(t *testing.T) func() wxauth.TokenStore {
			store := wxauth.NewMemoryTokenStore()
			return func() wxauth.TokenStore { return store }
		})
	}
	_ = testMemoryTokenStore
}
