package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	_ "github.com/jackc/pgx/v5/stdlib" // the application's choice of driver
	_ "modernc.org/sqlite"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/sqlstore"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// The links next to the application's own users table, on SQLite: the
// callback inserts the user in the links' transaction.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE users (id INTEGER PRIMARY KEY, phone TEXT NOT NULL)"); err != nil {
		log.Fatal(err)
	}

	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.CreateSchema(ctx); err != nil {
		log.Fatal(err)
	}
	linker := account.New(store, account.WithNewUser(func(ctx context.Context, id account.Identity) (string, error) {
		tx, _ := sqlstore.TxFromContext(ctx)
		res, err := tx.ExecContext(ctx, "INSERT INTO users (phone) VALUES (?)", id.Phone)
		if err != nil {
			return "", err
		}
		n, err := res.LastInsertId()
		return strconv.FormatInt(n, 10), err
	}))

	id := account.Identity{AppID: "wx0123456789abcdef", OpenID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", Phone: "+86 139 1234 5678"}
	for range 2 {
		uid, created, err := linker.Resolve(ctx, id)
		fmt.Println(uid, created, err)
	}
	var phone string
	if err := db.QueryRowContext(ctx, "SELECT phone FROM users WHERE id = 1").Scan(&phone); err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone)
	// Output:
	// 1 true <nil>
	// 1 false <nil>
	// +8613912345678
}

// A login server with its accounts in PostgreSQL (not run: it needs a
// server).
func ExampleNew_postgres() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(20) // below the server's max_connections
	store, err := sqlstore.New(db, sqlstore.PostgreSQL)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.CreateSchema(ctx); err != nil { // or run sqlstore.PostgreSQL.Schema() in a migration
		log.Fatal(err)
	}
	linker := account.New(store) // users get random ids; see account.WithNewUser for a users table

	app, err := wxauth.New(os.Getenv("WX_APPID"), os.Getenv("WX_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	hook := session.WithOnLogin(account.OnLogin(linker))
	http.Handle("POST /login", session.LoginHandler(app, sessions, hook))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}
