package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wxmp/miniauth/account"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Dialect is the SQL dialect of a database.
type Dialect int

// The dialects a [Store] speaks.
const (
	// MySQL is MySQL 8 or MariaDB 10.5 and later.
	MySQL Dialect = iota + 1
	// PostgreSQL is PostgreSQL 12 and later.
	PostgreSQL
	// SQLite is SQLite 3.24 and later.
	SQLite
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case MySQL:
		return "mysql"
	case PostgreSQL:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Schema returns the DDL that creates the store's tables in this dialect
// (idempotent: CREATE ... IF NOT EXISTS), for [Store.CreateSchema] or a
// migration tool; "" for an unknown dialect.
func (d Dialect) Schema() string {
	switch d {
	case MySQL, PostgreSQL, SQLite:
		b, _ := schemaFS.ReadFile("schema/" + d.String() + ".sql") // embedded: cannot fail
		return string(b)
	}
	return ""
}

// Store is an [account.Store] in a SQL database. It is safe for concurrent
// use.
type Store struct {
	db     *sql.DB
	d      Dialect
	q      queries
	serial chan struct{} // SQLite: one transaction at a time

	readyTimeout time.Duration
}

var _ account.ReadyStore = (*Store)(nil)

// Ready pings the database (database/sql's PingContext, on a pooled
// connection or a new one) and reports whether it answered within the
// ready timeout ([WithReadyTimeout], default [DefaultReadyTimeout]): nil,
// or an error that says why not. A database that is frozen (its host up,
// its process stopped) costs one wait of the timeout. It is the
// [account.ReadyStore] probe with which the session Manager learns that an
// outage is over.
func (s *Store) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.readyTimeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// DefaultReadyTimeout is how long [Store.Ready] waits for the database by
// default: the session Manager's own default store timeout.
const DefaultReadyTimeout = time.Second

// An Option configures the store [New] returns.
type Option func(*Store) error

// WithReadyTimeout bounds [Store.Ready]'s ping, from 10 ms to one minute
// (default [DefaultReadyTimeout]).
func WithReadyTimeout(d time.Duration) Option {
	return func(s *Store) error {
		if d < 10*time.Millisecond || d > time.Minute {
			return errors.New("sqlstore: ready timeout must be between 10ms and 1m")
		}
		s.readyTimeout = d
		return nil
	}
}

// New returns a store of links in db, which speaks dialect d. It fails for
// a nil db, an unknown dialect or an option that refuses its argument. It
// does not create the tables: see [Store.CreateSchema].
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if d.Schema() == "" {
		return nil, fmt.Errorf("sqlstore: unknown dialect %d", int(d))
	}
	s := &Store{db: db, d: d, q: newQueries(d), readyTimeout: DefaultReadyTimeout}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if d == SQLite {
		s.serial = make(chan struct{}, 1)
	}
	return s, nil
}

// CreateSchema creates the store's tables and indexes when they do not
// exist (the DDL of [Dialect.Schema]).
func (s *Store) CreateSchema(ctx context.Context) error {
	for _, stmt := range strings.Split(s.d.Schema(), ";\n") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		if _, err := s.db.ExecContext(ctx, strings.Join(lines, "\n")); err != nil {
			return wrap("create schema", err)
		}
	}
	return nil
}

type txKey struct{}

// TxFromContext returns the transaction of the [Store.Update] that ctx
// belongs to: the [account.WithNewUser] callback inserts the user with it,
// so that the user and its links commit or roll back together.
func TxFromContext(ctx context.Context) (*sql.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*sql.Tx)
	return tx, ok
}

// Update runs fn in a database transaction; see [account.Store].
func (s *Store) Update(ctx context.Context, fn func(context.Context, account.Tx) error) error {
	if s.serial != nil {
		select {
		case s.serial <- struct{}{}:
			defer func() { <-s.serial }()
		case <-ctx.Done():
			return wrap("begin", ctx.Err())
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("begin", err)
	}
	if err := fn(context.WithValue(ctx, txKey{}, tx), &sqlTx{q: &s.q, tx: tx}); err != nil {
		_ = tx.Rollback()
		if _, retry := classify(err); retry && !errors.Is(err, account.ErrConflict) {
			// The callback's own insert lost a race (a duplicate key in
			// the users table, a deadlock): run the rules again. The
			// database's text is left out: it may quote a phone.
			return wrap("new user", err)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrap("commit", err)
	}
	return nil
}

// UserByOpenID returns the user bound to (appID, openID), outside any
// transaction (see [account.Reader]).
func (s *Store) UserByOpenID(ctx context.Context, appID, openID string) (string, error) {
	return queryOne(ctx, s.db, "user by openid", s.q.userByOpenID, appID, openID)
}

// UserByUnionID returns the user bound to unionID, outside any transaction
// (see [account.Reader]).
func (s *Store) UserByUnionID(ctx context.Context, unionID string) (string, error) {
	return queryOne(ctx, s.db, "user by unionid", s.q.userByUnionID, unionID)
}

// queryOne returns the one string that query selects, or
// account.ErrNotFound.
func queryOne(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, op, query string, args ...any) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, query, args...).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", account.ErrNotFound
	case err != nil:
		return "", wrap(op, err)
	}
	return v, nil
}

// sqlTx is an account.Tx in one database transaction.
type sqlTx struct {
	q  *queries
	tx *sql.Tx
}

func (t *sqlTx) one(ctx context.Context, op, query string, args ...any) (string, error) {
	return queryOne(ctx, t.tx, op, query, args...)
}

func (t *sqlTx) UserByOpenID(ctx context.Context, appID, openID string) (string, error) {
	return t.one(ctx, "user by openid", t.q.userByOpenID, appID, openID)
}

func (t *sqlTx) UserByUnionID(ctx context.Context, unionID string) (string, error) {
	return t.one(ctx, "user by unionid", t.q.userByUnionID, unionID)
}

func (t *sqlTx) UserByPhone(ctx context.Context, phone string) (string, error) {
	return t.one(ctx, "user by phone", t.q.userByPhone, phone)
}

func (t *sqlTx) Links(ctx context.Context, userID string) (*account.Links, error) {
	rows, err := t.tx.QueryContext(ctx, t.q.links, userID, userID, userID)
	if err != nil {
		return nil, wrap("links", err)
	}
	defer rows.Close()
	l := &account.Links{}
	for rows.Next() {
		var kind, a, b string
		if err := rows.Scan(&kind, &a, &b); err != nil {
			return nil, wrap("links", err)
		}
		switch kind {
		case "o":
			l.OpenIDs = append(l.OpenIDs, account.OpenID{AppID: a, OpenID: b})
		case "u":
			l.UnionIDs = append(l.UnionIDs, a)
		case "p":
			l.Phone = a
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("links", err)
	}
	slices.SortFunc(l.OpenIDs, func(x, y account.OpenID) int { return strings.Compare(x.AppID, y.AppID) })
	slices.Sort(l.UnionIDs)
	return l, nil
}

// insert runs an insert of a link and reports account.ErrTaken when a
// unique constraint refused it; the transaction stays usable.
func (t *sqlTx) insert(ctx context.Context, op, query string, args ...any) error {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		if code, _ := classify(err); code == mysqlDuplicate {
			return account.ErrTaken // the statement alone was rolled back
		}
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 { // ON CONFLICT DO NOTHING did nothing
		return account.ErrTaken
	}
	return nil
}

func (t *sqlTx) BindOpenID(ctx context.Context, userID, appID, openID string) error {
	return t.insert(ctx, "bind openid", t.q.bindOpenID, appID, openID, userID)
}

func (t *sqlTx) BindUnionID(ctx context.Context, userID, unionID string) error {
	return t.insert(ctx, "bind unionid", t.q.bindUnionID, unionID, userID)
}

func (t *sqlTx) BindPhone(ctx context.Context, userID, phone string) error {
	return t.insert(ctx, "bind phone", t.q.bindPhone, phone, userID)
}

func (t *sqlTx) exec(ctx context.Context, op, query string, args ...any) error {
	if _, err := t.tx.ExecContext(ctx, query, args...); err != nil {
		return wrap(op, err)
	}
	return nil
}

func (t *sqlTx) UnbindOpenID(ctx context.Context, userID, appID, openID string) error {
	return t.exec(ctx, "unbind openid", t.q.unbindOpenID, appID, openID, userID)
}

func (t *sqlTx) UnbindUnionID(ctx context.Context, userID, unionID string) error {
	return t.exec(ctx, "unbind unionid", t.q.unbindUnionID, unionID, userID)
}

func (t *sqlTx) UnbindPhone(ctx context.Context, userID, phone string) error {
	return t.exec(ctx, "unbind phone", t.q.unbindPhone, phone, userID)
}

func (t *sqlTx) DeleteUser(ctx context.Context, userID string) error {
	for _, q := range t.q.deleteUser {
		if err := t.exec(ctx, "delete user", q, userID); err != nil {
			return err
		}
	}
	return nil
}
