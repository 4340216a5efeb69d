package session_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/storetest"
)

// TestMemoryStoreConformance runs the Store contract suite on a sharded
// MemoryStore (the default bound) and on a single-shard one.
func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]session.MemoryOption{
		"sharded":      nil,
		"single shard": {session.WithMaxEntries(1024)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) session.Store {
				s, err := session.NewMemoryStore(opts...)
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				return s
			})
		})
	}
}
