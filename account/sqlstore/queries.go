package sqlstore

import (
	"strconv"
	"strings"
)

// queries are the statements of a Store, in its dialect.
type queries struct {
	userByOpenID, userByUnionID, userByPhone, links string
	bindOpenID, bindUnionID, bindPhone              string
	unbindOpenID, unbindUnionID, unbindPhone        string
	deleteUser                                      [3]string
}

func newQueries(d Dialect) queries {
	// Inserts that a unique constraint refuses: PostgreSQL and SQLite do
	// nothing (no error, so a PostgreSQL transaction is not aborted);
	// MySQL fails the statement alone with a duplicate-key error.
	onConflict := " ON CONFLICT DO NOTHING"
	if d == MySQL {
		onConflict = ""
	}
	q := queries{
		userByOpenID:  "SELECT user_id FROM miniauth_openids WHERE app_id = ? AND open_id = ?",
		userByUnionID: "SELECT user_id FROM miniauth_unionids WHERE union_id = ?",
		userByPhone:   "SELECT user_id FROM miniauth_phones WHERE phone = ?",
		links: "SELECT 'o', app_id, open_id FROM miniauth_openids WHERE user_id = ?" +
			" UNION ALL SELECT 'u', union_id, '' FROM miniauth_unionids WHERE user_id = ?" +
			" UNION ALL SELECT 'p', phone, '' FROM miniauth_phones WHERE user_id = ?",
		bindOpenID:    "INSERT INTO miniauth_openids (app_id, open_id, user_id) VALUES (?, ?, ?)" + onConflict,
		bindUnionID:   "INSERT INTO miniauth_unionids (union_id, user_id) VALUES (?, ?)" + onConflict,
		bindPhone:     "INSERT INTO miniauth_phones (phone, user_id) VALUES (?, ?)" + onConflict,
		unbindOpenID:  "DELETE FROM miniauth_openids WHERE app_id = ? AND open_id = ? AND user_id = ?",
		unbindUnionID: "DELETE FROM miniauth_unionids WHERE union_id = ? AND user_id = ?",
		unbindPhone:   "DELETE FROM miniauth_phones WHERE phone = ? AND user_id = ?",
		deleteUser: [3]string{
			"DELETE FROM miniauth_phones WHERE user_id = ?",
			"DELETE FROM miniauth_openids WHERE user_id = ?",
			"DELETE FROM miniauth_unionids WHERE user_id = ?",
		},
	}
	if d == PostgreSQL {
		for _, p := range []*string{&q.userByOpenID, &q.userByUnionID, &q.userByPhone, &q.links,
			&q.bindOpenID, &q.bindUnionID, &q.bindPhone, &q.unbindOpenID, &q.unbindUnionID, &q.unbindPhone,
			&q.deleteUser[0], &q.deleteUser[1], &q.deleteUser[2]} {
			*p = numbered(*p)
		}
	}
	return q
}

// numbered replaces the ? placeholders of query with $1, $2, ...
func numbered(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
