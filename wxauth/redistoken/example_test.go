package redistoken_test

import (
	"log"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/redistoken"
)

// Every instance of a fleet builds its client with the same store on
// the same Redis: one instance fetches the access token under the store's
// lock, the others read it from Redis, and all use the same token. The store
// keeps the token in plain text: guard this Redis as you guard the secret.
//
// This example needs a Redis server, so it has no Output: go test compiles
// it but does not run it.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	store, err := redistoken.New(rdb)
	if err != nil {
		log.Fatal(err)
	}

	app, err := wxauth.New(os.Getenv("WX_APPID"), os.Getenv("WX_SECRET"), wxauth.WithTokenStore(store))
	if err != nil {
		log.Fatal(err)
	}
	_ = app // app.GetPhoneNumber, app.CheckSessionKey, ... use the shared token
}
