package sqlstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wxmp/miniauth/account"
)

type pgErr struct{ code, msg string }

func (e *pgErr) Error() string    { return e.msg }
func (e *pgErr) SQLState() string { return e.code }

type sqliteErr struct {
	code int
	msg  string
}

func (e *sqliteErr) Error() string { return e.msg }
func (e *sqliteErr) Code() int     { return e.code }

// MySQLError has the shape of go-sql-driver/mysql's.
type MySQLError struct {
	Number  uint16
	Message string
}

func (e *MySQLError) Error() string { return e.Message }

func TestClassify(t *testing.T) {
	const phone = "+8613912345678"
	for _, c := range []struct {
		err   error
		code  string
		retry bool
	}{
		{&pgErr{"23505", "duplicate key value violates unique constraint; Key (phone)=(" + phone + ")"}, "sqlstate 23505", true},
		{&pgErr{"40001", "could not serialize access"}, "sqlstate 40001", true},
		{&pgErr{"40P01", "deadlock detected"}, "sqlstate 40P01", true},
		{&pgErr{"22001", "value too long: " + phone}, "sqlstate 22001", false},
		{&sqliteErr{5, "database is locked"}, "sqlite 5", true},
		{&sqliteErr{517, "busy snapshot"}, "sqlite 517", true},
		{&sqliteErr{2067, "UNIQUE constraint failed"}, "sqlite 2067", true},
		{&sqliteErr{1, "syntax error"}, "sqlite 1", false},
		{&MySQLError{1062, "Duplicate entry '" + phone + "' for key 'PRIMARY'"}, "mysql 1062", true},
		{&MySQLError{1213, "Deadlock found"}, "mysql 1213", true},
		{&MySQLError{1406, "Data too long"}, "mysql 1406", false},
		{fmt.Errorf("wrapped: %w", &MySQLError{1213, "Deadlock found"}), "mysql 1213", true},
		{errors.Join(errors.New("x"), &pgErr{"40001", "s"}), "sqlstate 40001", true},
		{errors.New("dial tcp: connection refused"), "", false},
	} {
		code, retry := classify(c.err)
		assert.Equal(t, c.code, code, c.err.Error())
		assert.Equal(t, c.retry, retry, c.err.Error())
		w := wrap("bind phone", c.err)
		assert.NotContains(t, w.Error(), "13912345678", "the database's message is left out")
		assert.ErrorIs(t, w, c.err)
		assert.Equal(t, c.retry, errors.Is(w, account.ErrConflict))
	}
	var nilMy *MySQLError
	_, ok := mysqlNumber(nilMy)
	assert.False(t, ok)
}
