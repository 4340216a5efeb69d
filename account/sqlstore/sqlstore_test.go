package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/accounttest"
	"github.com/wxmp/miniauth/account/sqlstore"
)

// maxConns bounds each test database's pool, below the servers' limits
// even with the race cases of parallel subtests.
const maxConns = 8

// env returns the DSN in the environment variable name, or skips t (fails
// it when CI=true) when it is unset.
func env(t testing.TB, name, server string) string {
	t.Helper()
	dsn := os.Getenv(name)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set but CI=true: the %s tests must run in CI (.ci/run starts the server)", name, server)
		}
		t.Skipf("%s not set: start %s and set %s to test the SQL store on it (bash .ci/run does; `. .ci/sql.sh` starts one locally)", name, server, name)
	}
	return dsn
}

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "miniauth_t_" + hex.EncodeToString(b[:])
}

// newStore makes a store on db with its tables, closed at the end of t.
func newStore(t testing.TB, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	db.SetMaxOpenConns(maxConns)
	t.Cleanup(func() { _ = db.Close() })
	s, err := sqlstore.New(db, d)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.CreateSchema(ctx))
	require.NoError(t, s.CreateSchema(ctx), "CreateSchema is idempotent")
	return s
}

// sqliteDB opens a new SQLite database in a temp file.
func sqliteDB(t testing.TB) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "links.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	return db
}

// scratch runs create on the server at dsn, and drop at the end of t.
func scratch(t testing.TB, driver, dsn, create, drop string) {
	t.Helper()
	admin, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.ExecContext(context.Background(), create)
	require.NoError(t, err, "the %s server at the DSN in the environment", driver)
	t.Cleanup(func() {
		if a, err := sql.Open(driver, dsn); err == nil {
			_, _ = a.ExecContext(context.Background(), drop)
			_ = a.Close()
		}
	})
}

// postgresDB opens a new schema of its own on the server at PG_DSN,
// dropped at the end of t.
func postgresDB(t testing.TB) *sql.DB {
	t.Helper()
	return postgresDBWith(t, nil)
}

// postgresDBWith is postgresDB with runtime parameters for its sessions.
func postgresDBWith(t testing.TB, params map[string]string) *sql.DB {
	t.Helper()
	dsn := env(t, "PG_DSN", "PostgreSQL")
	schema := uniqueName()
	scratch(t, "pgx", dsn, "CREATE SCHEMA "+schema, "DROP SCHEMA "+schema+" CASCADE")
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = schema
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	return stdlib.OpenDB(*cfg)
}

// mysqlDB opens a new database of its own on the server at MYSQL_DSN,
// dropped at the end of t.
func mysqlDB(t testing.TB) *sql.DB {
	t.Helper()
	dsn := env(t, "MYSQL_DSN", "MariaDB or MySQL")
	name := uniqueName()
	scratch(t, "mysql", dsn, "CREATE DATABASE "+name, "DROP DATABASE "+name)
	cfg, err := mysql.ParseDSN(dsn)
	require.NoError(t, err)
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	return db
}

// server is a database to test the store on: its dialect and how to open
// a new, empty database of it.
type server struct {
	name string
	d    sqlstore.Dialect
	open func(testing.TB) *sql.DB
}

var dialects = []server{
	{"SQLite", sqlstore.SQLite, sqliteDB},
	{"PostgreSQL", sqlstore.PostgreSQL, postgresDB},
	{"MySQL", sqlstore.MySQL, mysqlDB},
}

// serializable is PostgreSQL again at SERIALIZABLE isolation, where races
// end in serialization failures (40001) that the store retries. (MySQL at
// SERIALIZABLE turns every read into a locking read: 100 logins of one user
// at once deadlock each other past the retry budget; see the package doc.)
var serializable = []server{
	{"PostgreSQL", sqlstore.PostgreSQL, func(t testing.TB) *sql.DB {
		return postgresDBWith(t, map[string]string{"default_transaction_isolation": "serializable"})
	}},
}

func TestConformance(t *testing.T)             { conformance(t, dialects) }
func TestConformanceSerializable(t *testing.T) { conformance(t, serializable) }

// conformance runs the accounttest suite on each server.
func conformance(t *testing.T, servers []server) {
	for _, dl := range servers {
		t.Run(dl.name, func(t *testing.T) {
			t.Parallel()
			dl.open(t).Close() // skip (or fail in CI) once, not in every subtest
			accounttest.Run(t, func(t *testing.T) account.Store { return newStore(t, dl.open(t), dl.d) })
		})
	}
}
