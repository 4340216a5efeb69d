package redisstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
	"github.com/wxmp/miniauth/session/storetest"
)

// TestClusterConformance runs the Store contract suite (logout everywhere
// with the sessions from before a bind, Take) on a Redis in cluster mode,
// which refuses any command or script whose keys span two slots.
func TestClusterConformance(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		s, err := redisstore.New(c, redisstore.WithKeyPrefix(redistest.Prefix(t, c)))
		require.NoError(t, err)
		return s
	})
}
