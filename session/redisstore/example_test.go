package redisstore_test

import (
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
)

// Sessions in Redis, shared by every instance of the server. The same code
// takes a Sentinel or Cluster client (redis.NewUniversalClient).
//
// This example needs a Redis server, so it has no Output: go test compiles
// it but does not run it.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:6379",
		// Every authenticated request waits on Redis: keep its waits under
		// the Manager's store timeout (session.DefaultStoreTimeout, 1 s).
		DialTimeout:           500 * time.Millisecond,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		PoolTimeout:           500 * time.Millisecond,
		MaxRetries:            1,
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()

	store, err := redisstore.New(rdb, redisstore.WithKeyPrefix("myapp:session:"))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(store, session.WithTTL(7*24*time.Hour))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	_ = sessions // sessions.Middleware(...), session.LoginHandler(app, sessions)
}
