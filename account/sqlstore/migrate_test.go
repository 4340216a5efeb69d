package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/accounttest"
	"github.com/wxmp/miniauth/account/sqlstore"
)

// execFile runs the statements of a schema file on db, as CreateSchema
// runs its own: split at ";\n", comment lines left out.
func execFile(t testing.TB, db *sql.DB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, stmt := range strings.Split(string(b), ";\n") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "--") {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			_, err := db.ExecContext(context.Background(), strings.Join(lines, "\n"))
			require.NoError(t, err, path)
		}
	}
}

// firstSchema opens a new database of dl with the tables of the first
// schema (testdata/v1: the schema/*.sql files before platforms) and the
// links of two users in them.
func firstSchema(t testing.TB, dl server) *sql.DB {
	t.Helper()
	db := dl.open(t)
	db.SetMaxOpenConns(maxConns)
	t.Cleanup(func() { _ = db.Close() })
	execFile(t, db, filepath.Join("testdata", "v1", dl.d.String()+".sql"))
	p := func(q string) string { // PostgreSQL numbers its placeholders
		if dl.d != sqlstore.PostgreSQL {
			return q
		}
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprint("$", i), 1)
		}
		return q
	}
	ctx := context.Background()
	for _, r := range [][3]string{{"wx-a", "o-1", "user-1"}, {"wx-a", "o-2", "user-2"}, {"wx-b", "o-1", "user-1"}} {
		_, err := db.ExecContext(ctx, p("INSERT INTO miniauth_openids (app_id, open_id, user_id) VALUES (?, ?, ?)"), r[0], r[1], r[2])
		require.NoError(t, err)
	}
	for _, r := range [][2]string{{"u-1", "user-1"}, {"u-2", "user-2"}} {
		_, err := db.ExecContext(ctx, p("INSERT INTO miniauth_unionids (union_id, user_id) VALUES (?, ?)"), r[0], r[1])
		require.NoError(t, err)
	}
	_, err := db.ExecContext(ctx, p("INSERT INTO miniauth_phones (phone, user_id) VALUES (?, ?)"), "+8613912345678", "user-1")
	require.NoError(t, err)
	return db
}

// TestMigrate upgrades a database of the first schema, with links in it,
// on each server: CreateSchema, from several servers at once and again,
// keeps every row as a WeChat link, and the new unique keys hold (an
// openid or a unionid is unique on its platform, a user has one openid an
// app of a platform).
func TestMigrate(t *testing.T) {
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := firstSchema(t, dl)

			// Eight servers start at once, each with its own Store.
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := sqlstore.New(db, dl.d)
					if err == nil {
						err = s.CreateSchema(ctx)
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			s, err := sqlstore.New(db, dl.d)
			require.NoError(t, err)
			require.NoError(t, s.CreateSchema(ctx), "CreateSchema on an upgraded database does nothing")

			rows := func(q string) []string {
				t.Helper()
				r, err := db.QueryContext(ctx, q)
				require.NoError(t, err)
				defer r.Close()
				cols, err := r.Columns()
				require.NoError(t, err)
				var out []string
				for r.Next() {
					v := make([]any, len(cols))
					s := make([]string, len(cols))
					for i := range v {
						v[i] = &s[i]
					}
					require.NoError(t, r.Scan(v...))
					out = append(out, strings.Join(s, " "))
				}
				require.NoError(t, r.Err())
				return out
			}
			assert.Equal(t, []string{"wechat wx-a o-1 user-1", "wechat wx-a o-2 user-2", "wechat wx-b o-1 user-1"},
				rows("SELECT platform, app_id, open_id, user_id FROM miniauth_openids ORDER BY app_id, open_id"))
			assert.Equal(t, []string{"wechat u-1 user-1", "wechat u-2 user-2"},
				rows("SELECT platform, union_id, user_id FROM miniauth_unionids ORDER BY union_id"))
			assert.Equal(t, []string{"+8613912345678 user-1"}, rows("SELECT phone, user_id FROM miniauth_phones"))

			// The links work as WeChat links, with or without a platform.
			l := account.NewLinker(s)
			for _, id := range []account.Identity{
				{AppID: "wx-a", OpenID: "o-1"},
				{Platform: miniauth.WeChat, AppID: "wx-b", OpenID: "o-1"},
				{AppID: "wx-c", OpenID: "o-3", UnionID: "u-1"}, // found by its unionid
			} {
				uid, _, err := l.Resolve(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, "user-1", uid)
			}
			_, _, err = l.Resolve(ctx, account.Identity{Platform: miniauth.Douyin, AppID: "wx-d", OpenID: "o-4", UnionID: "u-1"})
			require.ErrorIs(t, err, account.ErrNotRegistered, "a WeChat unionid does not find a Douyin identity")

			// The new unique keys.
			require.NoError(t, s.Update(ctx, func(ctx context.Context, tx account.Tx) error {
				dy := account.OpenID{Platform: miniauth.Douyin, AppID: "wx-a", OpenID: "o-1"}
				require.NoError(t, tx.BindOpenID(ctx, "user-9", dy), "the same appid and openid on Douyin")
				assert.ErrorIs(t, tx.BindOpenID(ctx, "user-9", account.OpenID{Platform: miniauth.WeChat, AppID: "wx-a", OpenID: "o-1"}), account.ErrTaken)
				assert.ErrorIs(t, tx.BindOpenID(ctx, "user-9", account.OpenID{Platform: miniauth.Douyin, AppID: "wx-a", OpenID: "o-9"}), account.ErrTaken,
					"one openid an app of a platform")
				require.NoError(t, tx.BindOpenID(ctx, "user-1", account.OpenID{Platform: miniauth.QQ, AppID: "wx-a", OpenID: "o-5"}),
					"user-1 has an openid of wx-a on WeChat, none on QQ")
				require.NoError(t, tx.BindUnionID(ctx, "user-9", account.UnionID{Platform: miniauth.Douyin, UnionID: "u-1"}))
				assert.ErrorIs(t, tx.BindUnionID(ctx, "user-9", account.UnionID{Platform: miniauth.WeChat, UnionID: "u-2"}), account.ErrTaken)
				return nil
			}))
			assert.Equal(t, []string{"douyin u-1 user-9", "wechat u-1 user-1", "wechat u-2 user-2"},
				rows("SELECT platform, union_id, user_id FROM miniauth_unionids ORDER BY union_id, platform"))

			// A server of the previous version, still running during a
			// rolling upgrade, inserts without the column: a WeChat link.
			_, err = db.ExecContext(ctx, "INSERT INTO miniauth_openids (app_id, open_id, user_id) VALUES ('wx-z', 'o-z', 'user-z')")
			require.NoError(t, err)
			uid, err := s.UserByOpenID(ctx, account.OpenID{Platform: miniauth.WeChat, AppID: "wx-z", OpenID: "o-z"})
			require.NoError(t, err)
			assert.Equal(t, "user-z", uid)
		})
	}
}

// TestMigrateConformance runs the accounttest suite on databases that were
// created by the first schema and upgraded by CreateSchema.
func TestMigrateConformance(t *testing.T) {
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			t.Parallel()
			dl.open(t).Close() // skip (or fail in CI) once, not in every subtest
			accounttest.Run(t, func(t *testing.T) account.Store {
				db := dl.open(t)
				execFile(t, db, filepath.Join("testdata", "v1", dl.d.String()+".sql"))
				return newStore(t, db, dl.d)
			})
		})
	}
}

// TestMigrationSQL: the SQL an operator runs by hand is the SQL the store
// runs, for each dialect, and docs/account-migration.md shows it.
func TestMigrationSQL(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "account-migration.md"))
	require.NoError(t, err)
	for _, d := range []sqlstore.Dialect{sqlstore.MySQL, sqlstore.PostgreSQL, sqlstore.SQLite} {
		m := d.Migration()
		assert.Contains(t, m, "platform", d.String())
		assert.Contains(t, string(doc), m, "docs/account-migration.md shows the %s migration as Dialect.Migration returns it", d)
	}
	assert.Empty(t, sqlstore.Dialect(9).Migration())
}

// TestMigrateByHand runs the SQL of Migration by hand on a SQLite database
// of the first schema, as an operator would, and CreateSchema then finds
// nothing to do.
func TestMigrateByHand(t *testing.T) {
	ctx := context.Background()
	db := firstSchema(t, dialects[0])
	db.SetMaxOpenConns(1) // BEGIN and COMMIT on one connection, as in a shell
	execFile(t, db, writeTemp(t, sqlstore.SQLite.Migration()))
	s, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	require.NoError(t, s.CreateSchema(ctx))
	uid, err := s.UserByUnionID(ctx, account.UnionID{Platform: miniauth.WeChat, UnionID: "u-2"})
	require.NoError(t, err)
	assert.Equal(t, "user-2", uid)
	uid, err = s.UserByOpenID(ctx, account.OpenID{Platform: miniauth.WeChat, AppID: "wx-b", OpenID: "o-1"})
	require.NoError(t, err)
	assert.Equal(t, "user-1", uid)
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "migration.sql")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// TestMigratePartly: a database with one table of the first schema and the
// other absent (or made by a migration cut short) gets the one upgraded and
// the other created.
func TestMigratePartly(t *testing.T) {
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := firstSchema(t, dl)
			_, err := db.ExecContext(ctx, "DROP TABLE miniauth_unionids")
			require.NoError(t, err)
			s := newStore(t, db, dl.d)
			uid, err := s.UserByOpenID(ctx, account.OpenID{Platform: miniauth.WeChat, AppID: "wx-a", OpenID: "o-2"})
			require.NoError(t, err)
			assert.Equal(t, "user-2", uid)
			require.NoError(t, s.Update(ctx, func(ctx context.Context, tx account.Tx) error {
				require.NoError(t, tx.BindUnionID(ctx, "user-2", account.UnionID{Platform: miniauth.Kuaishou, UnionID: "u-2"}))
				require.NoError(t, tx.BindUnionID(ctx, "user-1", account.UnionID{Platform: miniauth.WeChat, UnionID: "u-2"}))
				return nil
			}))
		})
	}
}
