package session_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// RevokeAll logs a user out everywhere: every session that carries the
// application's user id ends, on every device. Sessions of an openid not
// bound to a user yet end by the openid.
func ExampleManager_RevokeAll() {
	ctx := context.Background()
	sessions := session.NewManager(nil) // nil: in memory, a SubjectStore
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()

	phone, err := sessions.Issue(ctx, &wxauth.Session{OpenID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}, session.ForSubject("user-42"))
	if err != nil {
		log.Fatal(err)
	}
	tablet, err := sessions.Issue(ctx, &wxauth.Session{OpenID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}, session.ForSubject("user-42"))
	if err != nil {
		log.Fatal(err)
	}
	unbound, err := sessions.Issue(ctx, &wxauth.Session{OpenID: "oQ8vx5EaxvKfKv2Dz-vT3nhhGz0A"}) // no subject yet
	if err != nil {
		log.Fatal(err)
	}

	if err := sessions.RevokeAll(ctx, "user-42"); err != nil { // "log out everywhere"
		log.Fatal(err)
	}
	for name, token := range map[string]string{"phone": phone, "tablet": tablet} {
		_, err := sessions.Validate(ctx, token)
		fmt.Println(name, "after RevokeAll(user-42):", errors.Is(err, session.ErrInvalidToken))
	}
	_, err = sessions.Validate(ctx, unbound)
	fmt.Println("another user's session still valid:", err == nil)

	if err := sessions.RevokeAll(ctx, "oQ8vx5EaxvKfKv2Dz-vT3nhhGz0A"); err != nil { // by openid: no subject
		log.Fatal(err)
	}
	_, err = sessions.Validate(ctx, unbound)
	fmt.Println("unbound session after RevokeAll(openid):", errors.Is(err, session.ErrInvalidToken))
	// Unordered output:
	// phone after RevokeAll(user-42): true
	// tablet after RevokeAll(user-42): true
	// another user's session still valid: true
	// unbound session after RevokeAll(openid): true
}
