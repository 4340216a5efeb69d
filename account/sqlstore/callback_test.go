package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/accounttest"
	"github.com/wxmp/miniauth/account/sqlstore"
)

// usersDDL is an application's own users table, with a unique phone of its
// own, in each dialect.
var usersDDL = map[sqlstore.Dialect]string{
	sqlstore.SQLite:     "CREATE TABLE app_users (id INTEGER PRIMARY KEY AUTOINCREMENT, phone TEXT NOT NULL UNIQUE)",
	sqlstore.PostgreSQL: "CREATE TABLE app_users (id BIGSERIAL PRIMARY KEY, phone TEXT NOT NULL UNIQUE)",
	sqlstore.MySQL:      "CREATE TABLE app_users (id BIGINT AUTO_INCREMENT PRIMARY KEY, phone VARCHAR(32) NOT NULL UNIQUE)",
}

// createUser inserts the user in the links' transaction.
func createUser(d sqlstore.Dialect) account.NewUserFunc {
	return func(ctx context.Context, id account.Identity) (string, error) {
		tx, ok := sqlstore.TxFromContext(ctx)
		if !ok {
			return "", errors.New("no transaction in the callback's context")
		}
		var uid int64
		if d == sqlstore.PostgreSQL {
			if err := tx.QueryRowContext(ctx, "INSERT INTO app_users (phone) VALUES ($1) RETURNING id", id.Phone).Scan(&uid); err != nil {
				return "", err
			}
			return strconv.FormatInt(uid, 10), nil
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO app_users (phone) VALUES (?)", id.Phone)
		if err != nil {
			return "", err
		}
		uid, err = res.LastInsertId()
		return strconv.FormatInt(uid, 10), err
	}
}

// TestCallbackInTransaction races 100 logins of one new phone whose users
// are created in the links' transaction, in a users table that has a unique
// phone of its own: the losers' users roll back, one row is left, and the
// losers get ErrPhoneTaken (a duplicate key in the callback's insert is a
// lost race too, never an error that quotes the phone).
func TestCallbackInTransaction(t *testing.T) {
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			t.Parallel()
			db := dl.open(t)
			s := newStore(t, db, dl.d)
			ctx := context.Background()
			_, err := db.ExecContext(ctx, usersDDL[dl.d])
			require.NoError(t, err)
			l := account.New(s, account.WithNewUser(createUser(dl.d)))

			const phone = "+8613912345678"
			var (
				mu     sync.Mutex
				wg     sync.WaitGroup
				uids   []string
				losers int
			)
			for i := range accounttest.Races {
				wg.Add(1)
				go func() {
					defer wg.Done()
					uid, _, err := l.Resolve(ctx, account.Identity{AppID: "wxapp", OpenID: fmt.Sprint("o-", i), Phone: phone})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						assert.ErrorIs(t, err, account.ErrPhoneTaken)
						assert.NotContains(t, err.Error(), "13912345678")
						losers++
						return
					}
					uids = append(uids, uid)
				}()
			}
			wg.Wait()
			require.Len(t, uids, 1)
			assert.Equal(t, accounttest.Races-1, losers)
			var n int
			var id string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*), MAX(id) FROM app_users").Scan(&n, &id))
			assert.Equal(t, 1, n, "the users of the lost races rolled back")
			assert.Equal(t, uids[0], id)
		})
	}
}

func TestNew(t *testing.T) {
	db := sqliteDB(t)
	defer db.Close()
	_, err := sqlstore.New(nil, sqlstore.SQLite)
	require.Error(t, err)
	_, err = sqlstore.New(db, sqlstore.Dialect(0))
	require.Error(t, err)
	for _, d := range []sqlstore.Dialect{sqlstore.MySQL, sqlstore.PostgreSQL, sqlstore.SQLite} {
		assert.Contains(t, d.Schema(), "CREATE TABLE IF NOT EXISTS miniauth_phones", d.String())
	}
	assert.Equal(t, "Dialect(9)", sqlstore.Dialect(9).String())
	assert.Empty(t, sqlstore.Dialect(9).Schema())
	_, ok := sqlstore.TxFromContext(context.Background())
	assert.False(t, ok)
}

// TestClosedDB: a store whose database is gone fails with an error, not
// ErrNotFound, and a canceled context wins.
func TestClosedDB(t *testing.T) {
	db := sqliteDB(t)
	s := newStore(t, db, sqlstore.SQLite)
	require.NoError(t, db.Close())
	l := account.New(s)
	_, _, err := l.Resolve(context.Background(), account.Identity{AppID: "wxapp", OpenID: "o", Phone: "+8613912345678"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, account.ErrNotFound)
	assert.NotContains(t, err.Error(), "13912345678")
}
