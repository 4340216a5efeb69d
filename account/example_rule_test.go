package account_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// A ban in one call: the application's rule (here a set in memory; in
// production a Redis set, so that the check on every request costs no
// database round trip) refuses the user at login (WithRule) and on every
// request (CheckRecord), and ban ends the sessions they hold.
func ExampleWithRule() {
	ctx := context.Background()
	var mu sync.Mutex
	banned := map[string]bool{}
	rule := func(ctx context.Context, userID string) error {
		mu.Lock()
		defer mu.Unlock()
		if banned[userID] {
			return session.ErrLoginRefused // 403 login_refused
		}
		return nil // an error of another kind (the set is unreachable): 503
	}

	sessions := session.NewManager(nil, session.WithRecordCheck(account.CheckRecord(rule)))
	if err := sessions.Err(); err != nil {
		log.Fatal(err)
	}
	defer sessions.Close()
	linker := account.New(account.NewMemoryStore())
	hook := session.WithOnLogin(account.OnLogin(linker, account.WithRule(rule)))
	_ = hook // for session.LoginHandler(app, sessions, hook) and session.PhoneHandler

	ban := func(ctx context.Context, userID string) error {
		mu.Lock()
		banned[userID] = true // first the rule: a login in flight is refused at its token's first use
		mu.Unlock()
		return sessions.RevokeAll(ctx, userID) // then the sessions issued so far
	}

	token, err := sessions.Issue(ctx, &wxauth.Session{OpenID: "o-alice"}, session.ForSubject("1001"))
	if err != nil {
		log.Fatal(err)
	}
	me := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	get := func(token string) int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		me.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(get(token))
	if err := ban(ctx, "1001"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(get(token)) // revoked
	// A login that passed the rule just before the ban gets its token after it:
	late, err := sessions.Issue(ctx, &wxauth.Session{OpenID: "o-alice"}, session.ForSubject("1001"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(get(late)) // refused by the check
	// Output:
	// 200
	// 401
	// 403
}

// An application whose user ids are integers (a BIGINT AUTO_INCREMENT key):
// the conversion to and from the session's string subject lives in two
// small functions, the new-user callback and the getter of the request's
// user, and nowhere else.
func ExampleWithNewUser_bigint() {
	ctx := context.Background()
	var next int64 = 1000 // the users table's AUTO_INCREMENT
	insertUser := func(ctx context.Context, id account.Identity) (int64, error) {
		// With package sqlstore: tx := sqlstore.TxFromContext(ctx);
		// res, err := tx.ExecContext(ctx, "INSERT INTO users (phone) VALUES (?)", id.Phone);
		// return res.LastInsertId()
		next++
		return next, nil
	}
	linker := account.New(account.NewMemoryStore(), account.WithNewUser(
		func(ctx context.Context, id account.Identity) (string, error) {
			uid, err := insertUser(ctx, id)
			return strconv.FormatInt(uid, 10), err
		}))
	// userID is how the application's handlers read their user.
	userID := func(r *http.Request) (int64, error) {
		rec, ok := session.FromContext(r.Context())
		if !ok || rec.Subject == "" {
			return 0, errors.New("not registered") // behind sessions.RequireSubject, never
		}
		return strconv.ParseInt(rec.Subject, 10, 64)
	}

	sub, _, err := linker.Resolve(ctx, account.Identity{AppID: "wx-shop", OpenID: "o-alice", Phone: "+8613912345678"})
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/api/orders", nil)
	r = r.WithContext(session.NewContext(ctx, &session.Record{OpenID: "o-alice", Subject: sub}))
	uid, err := userID(r)
	fmt.Println(uid, err)
	// Output:
	// 1001 <nil>
}
