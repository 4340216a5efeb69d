package session_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// A server on one machine keeps sessions in memory. NewManager(nil) makes
// such a store with the defaults; make one yourself to set its bound.
// The Manager puts records into it (Issue) and reads them (Validate).
func ExampleNewMemoryStore() {
	store, err := session.NewMemoryStore(session.WithMaxEntries(50_000)) // beyond: evicts those closest to expiry
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // the Manager does not close a store it was given
	sessions := session.NewManager(store, session.WithTTL(12*time.Hour))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	token, err := sessions.Issue(ctx, &wxauth.Session{OpenID: "o-alice", SessionKey: "tiihtNczf5v6AKRyjwEUhQ=="})
	if err != nil {
		log.Fatal(err)
	}
	rec, err := sessions.Validate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.OpenID, "records:", store.Len())
	// Output: o-alice records: 1
}
