package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// upgrade is how one table of the first schema (the one before platforms:
// no platform column) becomes the current one.
type upgrade struct {
	table string
	stmts []string
}

// upgrades are, per dialect, the statements that add the platform column
// to the openid and unionid tables of the first schema, fill it with
// 'wechat' (every link kept before miniauth served several platforms is a
// WeChat one) and make it part of the tables' unique keys. The phones table
// has no platform: a phone joins a user across platforms.
var upgrades = map[Dialect][]upgrade{
	// One ALTER TABLE a table: InnoDB applies it whole or not at all.
	MySQL: {
		{"miniauth_openids", []string{
			"ALTER TABLE miniauth_openids\n" +
				"    ADD COLUMN platform VARBINARY(32) NOT NULL DEFAULT 'wechat' FIRST,\n" +
				"    DROP PRIMARY KEY,\n" +
				"    ADD PRIMARY KEY (platform, app_id, open_id),\n" +
				"    DROP INDEX miniauth_openids_user_app,\n" +
				"    ADD UNIQUE KEY miniauth_openids_user_app (user_id, platform, app_id)",
		}},
		{"miniauth_unionids", []string{
			"ALTER TABLE miniauth_unionids\n" +
				"    ADD COLUMN platform VARBINARY(32) NOT NULL DEFAULT 'wechat' FIRST,\n" +
				"    DROP PRIMARY KEY,\n" +
				"    ADD PRIMARY KEY (platform, union_id)",
		}},
	},
	// Run in one transaction: PostgreSQL's DDL is transactional.
	PostgreSQL: {
		{"miniauth_openids", []string{
			"ALTER TABLE miniauth_openids\n" +
				"    ADD COLUMN platform TEXT NOT NULL DEFAULT 'wechat',\n" +
				"    DROP CONSTRAINT miniauth_openids_pkey,\n" +
				"    ADD CONSTRAINT miniauth_openids_pkey PRIMARY KEY (platform, app_id, open_id),\n" +
				"    DROP CONSTRAINT miniauth_openids_user_app,\n" +
				"    ADD CONSTRAINT miniauth_openids_user_app UNIQUE (user_id, platform, app_id)",
		}},
		{"miniauth_unionids", []string{
			"ALTER TABLE miniauth_unionids\n" +
				"    ADD COLUMN platform TEXT NOT NULL DEFAULT 'wechat',\n" +
				"    DROP CONSTRAINT miniauth_unionids_pkey,\n" +
				"    ADD CONSTRAINT miniauth_unionids_pkey PRIMARY KEY (platform, union_id)",
		}},
	},
	// SQLite cannot change a primary key: each table is copied into a new
	// one, in one transaction (SQLite's DDL is transactional too).
	SQLite: {
		{"miniauth_openids", []string{
			"CREATE TABLE miniauth_openids_v2 (\n" +
				"    platform TEXT NOT NULL DEFAULT 'wechat',\n" +
				"    app_id   TEXT NOT NULL,\n" +
				"    open_id  TEXT NOT NULL,\n" +
				"    user_id  TEXT NOT NULL,\n" +
				"    PRIMARY KEY (platform, app_id, open_id),\n" +
				"    UNIQUE (user_id, platform, app_id)\n" +
				")",
			"INSERT INTO miniauth_openids_v2 (platform, app_id, open_id, user_id)\n" +
				"    SELECT 'wechat', app_id, open_id, user_id FROM miniauth_openids",
			"DROP TABLE miniauth_openids",
			"ALTER TABLE miniauth_openids_v2 RENAME TO miniauth_openids",
		}},
		{"miniauth_unionids", []string{
			"CREATE TABLE miniauth_unionids_v2 (\n" +
				"    platform TEXT NOT NULL DEFAULT 'wechat',\n" +
				"    union_id TEXT NOT NULL,\n" +
				"    user_id  TEXT NOT NULL,\n" +
				"    PRIMARY KEY (platform, union_id)\n" +
				")",
			"INSERT INTO miniauth_unionids_v2 (platform, union_id, user_id)\n" +
				"    SELECT 'wechat', union_id, user_id FROM miniauth_unionids",
			"DROP TABLE miniauth_unionids", // and its index miniauth_unionids_user
			"ALTER TABLE miniauth_unionids_v2 RENAME TO miniauth_unionids",
			"CREATE INDEX miniauth_unionids_user ON miniauth_unionids (user_id)",
		}},
	},
}

// Migration returns the SQL that upgrades, in place, the tables of a
// database created by the first schema of this package (before platforms:
// miniauth_openids and miniauth_unionids without a platform column) to the
// current one ([Dialect.Schema]): it adds the platform column, sets it to
// 'wechat' on every row, and makes it part of the unique keys. It returns
// "" for an unknown dialect.
//
// [Store.CreateSchema] runs it by itself, for each table that needs it, so
// most applications never read it; it is here for an operator who runs
// migrations by hand or with a tool. Run each table's part only on a table
// that has no platform column yet (on SQLite a second run of it would fail
// on the table it creates; on MySQL on the column it adds). The files under
// docs/ show it for each dialect.
func (d Dialect) Migration() string {
	ups, ok := upgrades[d]
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- miniauth account links, %s: the first schema (no platform) to the current one.\n", d)
	if d != MySQL {
		b.WriteString("BEGIN;\n")
	}
	for _, u := range ups {
		fmt.Fprintf(&b, "-- %s, when it has no platform column:\n", u.table)
		for _, s := range u.stmts {
			b.WriteString(s)
			b.WriteString(";\n")
		}
	}
	if d != MySQL {
		b.WriteString("COMMIT;\n")
	}
	return b.String()
}

// execer runs statements: a *sql.DB, *sql.Tx or *sql.Conn.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tableState is what a table of the store is in a database.
type tableState int

const (
	tableAbsent  tableState = iota // not created yet
	tableFirst                     // the first schema: no platform column
	tableCurrent                   // has the platform column
)

// state reports the state of table, as db sees it.
func (s *Store) state(ctx context.Context, db execer, table string) (tableState, error) {
	var q string
	switch s.d {
	case MySQL:
		q = "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
	case PostgreSQL:
		// The table that an unqualified name finds on the search_path, as
		// the store's statements find it.
		q = "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped"
	default:
		q = "SELECT name FROM pragma_table_info(?)"
	}
	rows, err := db.QueryContext(ctx, q, table)
	if err != nil {
		return 0, wrap("migrate: read the columns of "+table, err)
	}
	defer rows.Close()
	st := tableAbsent
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return 0, wrap("migrate: read the columns of "+table, err)
		}
		if strings.EqualFold(name, "platform") {
			st = tableCurrent
		} else if st == tableAbsent {
			st = tableFirst
		}
	}
	if err := rows.Err(); err != nil {
		return 0, wrap("migrate: read the columns of "+table, err)
	}
	return st, nil
}

// pending returns the upgrades of the tables that db sees in the first
// schema.
func (s *Store) pending(ctx context.Context, db execer) ([]upgrade, error) {
	var todo []upgrade
	for _, u := range upgrades[s.d] {
		st, err := s.state(ctx, db, u.table)
		if err != nil {
			return nil, err
		}
		if st == tableFirst {
			todo = append(todo, u)
		}
	}
	return todo, nil
}

// migrate upgrades the tables of the first schema that the database has,
// in place and keeping their rows (see [Dialect.Migration]). It does
// nothing on tables that are absent or current, so it is idempotent, and
// safe when several servers start at once: on PostgreSQL and SQLite the
// upgrade runs in one transaction that holds the tables' lock while it
// checks them again; on MySQL, whose DDL is not transactional, a server
// whose ALTER fails finds the table upgraded by another, or reports the
// error.
func (s *Store) migrate(ctx context.Context) error {
	todo, err := s.pending(ctx, s.db)
	if err != nil || len(todo) == 0 {
		return err
	}
	switch s.d {
	case MySQL:
		for _, u := range todo {
			if err := s.migrateMySQL(ctx, u); err != nil {
				return err
			}
		}
		return nil
	case PostgreSQL:
		return s.migratePostgres(ctx, todo)
	}
	return s.migrateSQLite(ctx)
}

// migrateMySQL upgrades one table with one ALTER TABLE.
func (s *Store) migrateMySQL(ctx context.Context, u upgrade) error {
	for _, stmt := range u.stmts {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			// A server that started at the same time may have won.
			if st, serr := s.state(ctx, s.db, u.table); serr == nil && st == tableCurrent {
				return nil
			}
			return wrap("migrate "+u.table, err)
		}
	}
	return nil
}

// migratePostgres upgrades the tables of todo in one transaction, which
// locks them first and checks them again under the lock.
func (s *Store) migratePostgres(ctx context.Context, todo []upgrade) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("migrate: begin", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	names := make([]string, len(todo))
	for i, u := range todo {
		names[i] = u.table
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return wrap("migrate: lock", err)
	}
	todo, err = s.pending(ctx, tx)
	if err != nil {
		return err
	}
	for _, u := range todo {
		for _, stmt := range u.stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return wrap("migrate "+u.table, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap("migrate: commit", err)
	}
	return nil
}

// migrateSQLite upgrades the tables in one IMMEDIATE transaction (it takes
// the database's write lock at once, so that another process cannot upgrade
// them between the check and the copy), one at a time in this process.
func (s *Store) migrateSQLite(ctx context.Context) (err error) {
	select {
	case s.serial <- struct{}{}:
		defer func() { <-s.serial }()
	case <-ctx.Done():
		return wrap("migrate: begin", ctx.Err())
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return wrap("migrate: begin", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return wrap("migrate: begin", err)
	}
	defer func() {
		if err != nil {
			// A fresh context: the rollback must run even when ctx ended.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	todo, err := s.pending(ctx, conn)
	if err != nil {
		return err
	}
	for _, u := range todo {
		for _, stmt := range u.stmts {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return wrap("migrate "+u.table, err)
			}
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return wrap("migrate: commit", err)
	}
	return nil
}
