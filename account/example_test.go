package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// The rules, one login after another: a phone-less stranger is unknown; the
// phone creates the user; the same person in the app's other mini-program is
// found by unionid; another WeChat account of the first app cannot take the
// phone.
func ExampleLinker_Resolve() {
	ctx := context.Background()
	n := 0
	linker := account.NewLinker(account.NewMemoryStore(), account.WithNewUser(
		func(ctx context.Context, id account.Identity) (string, error) {
			n++ // the application's own users table would insert here
			return fmt.Sprintf("user-%d", n), nil
		}))
	show := func(id account.Identity) {
		uid, created, err := linker.Resolve(ctx, id)
		fmt.Printf("%q created=%v err=%v\n", uid, created, err)
	}

	shop := account.Identity{AppID: "wx-shop", OpenID: "o-shop-alice", UnionID: "u-alice"}
	show(shop)                                                                                             // no phone yet
	shop.Phone, shop.PhoneBound = "+86 139 1234 5678", true                                                // a WeChat phone code, exchanged with the openid
	show(shop)                                                                                             // the phone button
	show(account.Identity{AppID: "wx-games", OpenID: "o-games-alice", UnionID: "u-alice"})                 // another app, same unionid
	show(account.Identity{AppID: "wx-shop", OpenID: "o-shop-bob", Phone: "13912345678", PhoneBound: true}) // Alice's phone, another account

	links, _ := linker.Links(ctx, "user-1")
	fmt.Println(links.Phone, len(links.OpenIDs))
	// Output:
	// "" created=false err=account: not registered
	// "user-1" created=true err=<nil>
	// "user-1" created=false err=<nil>
	// "" created=false err=account: phone is bound to another openid of this app
	// +8613912345678 2
}

// One person on two platforms: the same unionid string on WeChat and on
// Kuaishou is two unionids, and finds no one across them; the phone joins
// the Kuaishou identity to the WeChat one's user, since both platforms tie
// it to the openid (a WeChat phone code exchanged with the openid,
// Kuaishou's phone data made with the login's session key). Douyin's phone
// code proves the number to whoever holds it: it joins no one, unless the
// Linker is told to (WithUnboundPhoneJoin, after the application's own SMS
// check).
func ExampleLinker_Resolve_platforms() {
	ctx := context.Background()
	linker := account.NewLinker(account.NewMemoryStore(), account.WithNewUser(
		func(ctx context.Context, id account.Identity) (string, error) {
			return "user-1", nil // a users table would insert here
		}))
	show := func(id account.Identity) {
		uid, created, err := linker.Resolve(ctx, id)
		fmt.Printf("%-8s %q created=%v err=%v\n", id.Platform, uid, created, err)
	}

	show(account.Identity{Platform: miniauth.WeChat, AppID: "wx-shop", OpenID: "o-wx", UnionID: "u-1", Phone: "+8613912345678", PhoneBound: true})
	show(account.Identity{Platform: miniauth.Kuaishou, AppID: "ks-shop", OpenID: "o-ks", UnionID: "u-1"}) // WeChat's unionid: no one
	show(account.Identity{Platform: miniauth.Kuaishou, AppID: "ks-shop", OpenID: "o-ks", UnionID: "u-1", Phone: "13912345678", PhoneBound: true})
	show(account.Identity{Platform: miniauth.Douyin, AppID: "tt-shop", OpenID: "o-dy", Phone: "13912345678"})

	links, _ := linker.Links(ctx, "user-1")
	for _, o := range links.OpenIDs {
		fmt.Println(o.Platform, o.AppID, o.OpenID)
	}
	// Output:
	// wechat   "user-1" created=true err=<nil>
	// kuaishou "" created=false err=account: not registered
	// kuaishou "user-1" created=false err=<nil>
	// douyin   "" created=false err=account: a user has this phone, which the platform did not tie to this openid: account: phone is bound to another openid of this app
	// kuaishou ks-shop o-ks
	// wechat wx-shop o-wx
}

// A login endpoint with accounts: OnLogin resolves each login and puts the
// user id in the token. A user who has not given the phone yet gets a token
// without a subject and "registered": false.
func ExampleOnLogin() {
	const appID, secret = "wx0123456789abcdef", "app-secret"
	fake := wxauthtest.NewServer(appID, secret) // WeChat, for the example
	defer fake.Close()
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()
	linker := account.NewLinker(account.NewMemoryStore())

	login := session.LoginHandler(app, sessions, session.WithOnLogin(account.OnLogin(linker)))

	code := fake.Login("o6_bmjrPTlm6_2sgVt7hMZOPfL2M") // what wx.login gives the mini-program
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"`+code+`"}`)))
	var resp struct {
		Token      string `json:"token"`
		Registered bool   `json:"registered"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		log.Fatal(err)
	}
	rec, err := sessions.Validate(context.Background(), resp.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d registered=%v subject=%q\n", w.Code, resp.Registered, rec.Subject)
	// Output:
	// 200 registered=false subject=""
}

// Closing an account: Delete removes the links, and ends no session by
// itself; revoke the user's sessions right after.
func ExampleLinker_Delete() {
	ctx := context.Background()
	linker := account.NewLinker(account.NewMemoryStore())
	id := account.Identity{AppID: "wx-shop", OpenID: "o-shop-alice", Phone: "+8613912345678"}
	uid, _, _ := linker.Resolve(ctx, id)

	if err := linker.Delete(ctx, uid); err != nil {
		log.Fatal(err)
	}
	// Then: sessions.RevokeAll(ctx, uid), so that no token of the closed
	// account stays valid.
	id.Phone = ""
	_, _, err := linker.Resolve(ctx, id)
	fmt.Println(errors.Is(err, account.ErrNotRegistered))
	// Output:
	// true
}
