package wxauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// ResetSessionKey makes WeChat issue a new session_key for a user (after
// the old one may have leaked, say): the old key stops working at once.
// The fake WeChat of package wxauthtest plays WeChat here.
func ExampleApp_ResetSessionKey() {
	const appID, secret = "wx0123456789abcdef", "example-secret-0123456789abcdef"
	wechat := wxauthtest.NewServer(appID, secret)
	defer wechat.Close()
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL)) // production: no WithBaseURL
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	old, err := app.Code2Session(ctx, wechat.Login("o-alice"))
	if err != nil {
		log.Fatal(err)
	}

	fresh, err := app.ResetSessionKey(ctx, old.OpenID, old.SessionKey)
	if err != nil {
		log.Fatal(err)
	}
	// Store fresh.SessionKey in place of the old one; never print either.
	fmt.Println(fresh.OpenID, fresh.SessionKey != old.SessionKey)

	err = app.CheckSessionKey(ctx, old.OpenID, old.SessionKey)
	fmt.Println("old key:", errors.Is(err, wxauth.ErrSessionKeyExpired))
	fmt.Println("new key:", app.CheckSessionKey(ctx, fresh.OpenID, fresh.SessionKey))
	// Output:
	// o-alice true
	// old key: true
	// new key: <nil>
}
