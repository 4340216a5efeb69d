package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/account/sqlstore"
)

// TestMeasureMigration measures how long CreateSchema takes to upgrade a
// database of the first schema holding 100,000 openids and 100,000
// unionids, on each server. It runs only with MINIAUTH_MEASURE=1, and
// reports with t.Log:
//
//	MINIAUTH_MEASURE=1 go test -run TestMeasureMigration -v ./account/sqlstore/
func TestMeasureMigration(t *testing.T) {
	if os.Getenv("MINIAUTH_MEASURE") != "1" {
		t.Skip("set MINIAUTH_MEASURE=1 to measure the upgrade of 100,000 links")
	}
	const n, batch = 100_000, 1000
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			ctx := context.Background()
			db := dl.open(t)
			t.Cleanup(func() { _ = db.Close() })
			execFile(t, db, filepath.Join("testdata", "v1", dl.d.String()+".sql"))
			for start := 0; start < n; start += batch {
				var o, u []string
				for i := start; i < start+batch; i++ {
					o = append(o, fmt.Sprintf("('wx%04d', 'o-%08d', 'user-%08d')", i%7, i, i))
					u = append(u, fmt.Sprintf("('u-%08d', 'user-%08d')", i, i))
				}
				_, err := db.ExecContext(ctx, "INSERT INTO miniauth_openids (app_id, open_id, user_id) VALUES "+strings.Join(o, ", "))
				require.NoError(t, err)
				_, err = db.ExecContext(ctx, "INSERT INTO miniauth_unionids (union_id, user_id) VALUES "+strings.Join(u, ", "))
				require.NoError(t, err)
			}
			s, err := sqlstore.New(db, dl.d)
			require.NoError(t, err)
			began := time.Now()
			require.NoError(t, s.CreateSchema(ctx))
			took := time.Since(began)
			var wechat int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM miniauth_openids WHERE platform = 'wechat'").Scan(&wechat))
			require.Equal(t, n, wechat)
			t.Logf("%s: CreateSchema upgraded %d openids and %d unionids in %v", dl.name, n, n, took.Round(time.Millisecond))
		})
	}
}
