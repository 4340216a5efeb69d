package ginauth_test

import (
	"context"
	"database/sql"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/sqlstore"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
	"github.com/wxmp/miniauth/wxauth"
)

// The service of newService in production: WeChat for real, the links of
// users to their WeChat identities and phones in MariaDB, sessions in Redis
// (for several machines). A program also imports its MySQL driver
// (_ "github.com/go-sql-driver/mysql"). It compiles here; it needs the
// servers to run.
func Example_production() {
	ctx := context.Background()
	app, err := wxauth.New(os.Getenv("WX_APPID"), os.Getenv("WX_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	db, err := sql.Open("mysql", os.Getenv("MARIADB_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	links, err := sqlstore.New(db, sqlstore.MySQL)
	if err != nil {
		log.Fatal(err)
	}
	if err := links.CreateSchema(ctx); err != nil { // once, or in your migrations: sqlstore.MySQL.Schema()
		log.Fatal(err)
	}
	store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR"),
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(store)
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	log.Fatal(newService(app, sessions, account.New(links)).Run("127.0.0.1:8080"))
}
