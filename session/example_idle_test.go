package session_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/session"
)

// A session that lasts while it is used: unused for 30 minutes it ends;
// each use extends it, up to the 24 hours of its TTL.
func ExampleWithIdleTimeout() {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now } // time.Now in production
	sessions := session.NewManager(nil, session.WithClock(clock),
		session.WithTTL(24*time.Hour), session.WithIdleTimeout(30*time.Minute))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()
	token, err := sessions.Issue(ctx, &miniauth.Session{OpenID: "o-alice"})
	if err != nil {
		log.Fatal(err)
	}
	use := func(after time.Duration) {
		now = now.Add(after)
		rec, err := sessions.Validate(ctx, token)
		if err != nil {
			fmt.Println(now.Format("15:04"), err)
			return
		}
		fmt.Println(now.Format("15:04"), "ok, ends unused at", rec.IdleExpiresAt.Format("15:04"))
	}
	use(20 * time.Minute)
	use(25 * time.Minute)
	use(31 * time.Minute)
	// Output:
	// 09:20 ok, ends unused at 09:50
	// 09:45 ok, ends unused at 10:15
	// 10:16 session: token expired
}

// Endpoints for registered users only: a session without a subject (a
// silent login of someone who has not given their phone) is refused 403
// not_registered.
func ExampleManager_RequireSubject() {
	ctx := context.Background()
	sessions := session.NewManager(nil)
	defer sessions.Close()
	orders := sessions.RequireSubject(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "orders of user %s\n", rec.Subject)
	}))
	for _, subject := range []string{"", "1001"} {
		token, err := sessions.Issue(ctx, &miniauth.Session{OpenID: "o-alice"}, session.ForSubject(subject))
		if err != nil {
			log.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/api/orders", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		orders.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
	}
	// Output:
	// 403 {"error":"not_registered","message":"the user is not registered: register (bind a phone number) first"}
	// 200 orders of user 1001
}

// An audit line for each login, without the token.
func ExampleWithAfterIssue() {
	sessions := session.NewManager(nil, session.WithAfterIssue(func(ctx context.Context, rec *session.Record) {
		fmt.Printf("login: user %q, openid %s\n", rec.Subject, rec.OpenID)
	}))
	defer sessions.Close()
	if _, err := sessions.Issue(context.Background(), &miniauth.Session{OpenID: "o-alice"}, session.ForSubject("1001")); err != nil {
		log.Fatal(err)
	}
	// Output:
	// login: user "1001", openid o-alice
}
