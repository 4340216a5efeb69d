// Package sqlstore is an [account.Store] on database/sql, for MySQL and
// MariaDB, PostgreSQL and SQLite: the links of many servers in one database,
// next to the application's own users table.
//
// The driver is the application's choice; the module's tests use
// github.com/go-sql-driver/mysql, github.com/jackc/pgx/v5/stdlib and
// modernc.org/sqlite. Open the database, make the store with its [Dialect],
// and create the tables once (or run the DDL of [Dialect.Schema] with your
// migration tool):
//
//	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
//	store, err := sqlstore.New(db, sqlstore.PostgreSQL)
//	err = store.CreateSchema(ctx)
//	linker := account.New(store, account.WithNewUser(createUser))
//
// # Schema
//
// Three tables, whose unique constraints decide every race:
//
//	miniauth_openids  (app_id, open_id, user_id)  primary key (app_id, open_id), unique (user_id, app_id)
//	miniauth_unionids (union_id, user_id)         primary key union_id
//	miniauth_phones   (phone, user_id)            primary key phone, unique user_id
//
// Phones are stored normalised ("+8613912345678", see
// [account.NormalizePhone]). On MySQL the columns are VARBINARY, so that ids
// compare as bytes: openids that differ only in case are two users, which a
// case-insensitive collation would merge. The files are in the schema
// directory of this package.
//
// # Transactions and races
//
// Each [Store.Update] is one database transaction at the database's default
// isolation: READ COMMITTED on PostgreSQL (SERIALIZABLE works too, its
// serialization failures are retried), REPEATABLE READ on MySQL (READ
// COMMITTED works too). Do not run the store at SERIALIZABLE on MySQL: it
// turns every read into a locking read, and many logins of one user at once
// then deadlock each other more often than the retries absorb. When two logins race, a unique constraint
// lets one insert win; the other finds its insert refused (ON CONFLICT DO
// NOTHING on PostgreSQL and SQLite, a duplicate-key error on MySQL), rolls
// back, and the [account.Linker] runs the rules again on what the winner
// committed. Deadlocks (MySQL 1213), serialization failures (PostgreSQL
// 40001, 40P01) and a busy SQLite database are retried the same way.
//
// The [account.WithNewUser] callback runs inside the transaction: get it
// with [TxFromContext] and insert the user there, and a user created by a
// login that lost a race is rolled back with its links.
//
// Give the pool a bound (db.SetMaxOpenConns) below the server's connection
// limit: each concurrent Resolve holds one connection for its transaction.
// On SQLite the store runs one transaction at a time in the process; open
// the database with a busy timeout (modernc.org/sqlite:
// "file:links.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
// when several processes share it.
//
// # Round trips
//
// A returning user (a known openid, no phone, a unionid bound already) is
// found with one or two SELECTs outside any transaction ([account.Reader]);
// only a login with something to bind or create opens one. With
// go-sql-driver/mysql, add interpolateParams=true to the DSN (with a utf8mb4
// or latin1 connection charset) so that each statement is one round trip
// instead of prepare, execute and close: it halves Resolve's time.
//
// # Errors
//
// Errors that the database reports are given as "sqlstore: <operation>:
// database error <code>", without the database's message, which can quote
// the value of a key (a phone); the driver's error is still there for
// errors.As. Errors of the [account.WithNewUser] callback are returned as it
// returned them.
package sqlstore
