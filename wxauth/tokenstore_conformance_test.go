package wxauth_test

import (
	"testing"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/tokenstoretest"
)

// TestMemoryTokenStoreConformance checks MemoryTokenStore against the
// TokenStore contract. Every instance of a fleet shares one
// MemoryTokenStore, as Apps of one process do.
func TestMemoryTokenStoreConformance(t *testing.T) {
	t.Parallel()
	tokenstoretest.Run(t, func(*testing.T) func() wxauth.TokenStore {
		store := wxauth.NewMemoryTokenStore()
		return func() wxauth.TokenStore { return store }
	})
}
