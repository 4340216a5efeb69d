package storetest_test

import (
	"testing"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/storetest"
)

// A store's tests call Run with a function that makes a new, empty store;
// here the store is a MemoryStore. In a _test.go file of the store's
// package, the function below would be TestMyStore.
func ExampleRun() {
	testMyStore := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store {
			s, err := session.NewMemoryStore()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	}
	_ = testMyStore
}
