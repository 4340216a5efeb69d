package sqlstore

import (
	"reflect"
	"strconv"

	"github.com/wxmp/miniauth/account"
)

// mysqlDuplicate is the code classify gives MySQL's ER_DUP_ENTRY.
const mysqlDuplicate = "mysql 1062"

// dbError is an error of the database, told without its message.
type dbError struct {
	op       string
	code     string // "" for an error of the client side (network, context)
	conflict bool
	err      error
}

func (e *dbError) Error() string {
	if e.code == "" {
		return "sqlstore: " + e.op + ": " + e.err.Error()
	}
	s := "sqlstore: " + e.op + ": database error " + e.code
	if e.conflict {
		s += " (a concurrent transaction won)"
	}
	return s
}

// Unwrap returns the driver's error, and [account.ErrConflict] when the
// transaction lost a race and is worth running again.
func (e *dbError) Unwrap() []error {
	if e.conflict {
		return []error{account.ErrConflict, e.err}
	}
	return []error{e.err}
}

// wrap makes err, of operation op, a *dbError.
func wrap(op string, err error) error {
	code, retry := classify(err)
	return &dbError{op: op, code: code, conflict: retry, err: err}
}

// classify returns the database's code of err ("" when the database did not
// report it) and whether it means that a concurrent transaction won, so that
// running the transaction again can succeed. It knows the errors of pgx and
// lib/pq (SQLState), modernc.org/sqlite (Code) and go-sql-driver/mysql
// (MySQLError.Number) without importing them.
func classify(err error) (code string, retry bool) {
	switch e := err.(type) {
	case nil:
		return "", false
	case interface{ SQLState() string }:
		c := e.SQLState()
		// unique_violation, serialization_failure, deadlock_detected
		return "sqlstate " + c, c == "23505" || c == "40001" || c == "40P01"
	case interface{ Code() int }:
		c := e.Code()
		// SQLITE_BUSY, SQLITE_LOCKED (any extended code of them),
		// SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
		return "sqlite " + strconv.Itoa(c), c&0xff == 5 || c&0xff == 6 || c == 2067 || c == 1555
	}
	if n, ok := mysqlNumber(err); ok {
		// ER_DUP_ENTRY, ER_LOCK_DEADLOCK, ER_CHECKREAD (MariaDB's
		// snapshot isolation: record changed since last read)
		return "mysql " + strconv.FormatUint(n, 10), n == 1062 || n == 1213 || n == 1020
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return classify(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if code, retry := classify(e); code != "" {
				return code, retry
			}
		}
	}
	return "", false
}

// mysqlNumber returns the Number of a *mysql.MySQLError.
func mysqlNumber(e error) (uint64, bool) {
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 0, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type().Name() != "MySQLError" {
		return 0, false
	}
	f := v.FieldByName("Number")
	if !f.IsValid() || !f.CanUint() {
		return 0, false
	}
	return f.Uint(), true
}
