package wxauthtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// A test starts the fake, points a wxauth client at it, and plays the
// mini-program: Login is wx.login, and its code goes to Code2Session.
func Example() {
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret")
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	code := srv.Login("o-alice") // what wx.login hands the mini-program
	sess, err := app.Code2Session(context.Background(), code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("openid:", sess.OpenID)

	_, err = app.Code2Session(context.Background(), code)
	fmt.Println("again:", errors.Is(err, wxauth.ErrCodeUsed))
	// Output:
	// openid: o-alice
	// again: true
}

// Profile is what wx.getUserProfile hands the mini-program, made with the
// user's current session_key: the server verifies and decrypts it. As
// WeChat's, its encryptedData has no openId: the identity is the one
// code2session gave.
func ExampleServer_Profile() {
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret")
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	id := srv.AddUser(wxauthtest.User{NickName: "Alice", City: "Hangzhou"})
	code := srv.Login(id)
	profile, err := srv.Profile(id)
	if err != nil {
		log.Fatal(err)
	}

	sess, err := app.Code2Session(context.Background(), code)
	if err != nil {
		log.Fatal(err)
	}
	if err := app.VerifySignature(sess.SessionKey, profile.RawData, profile.Signature); err != nil {
		log.Fatal(err)
	}
	var user wxauth.UserInfo
	if err := app.Decrypt(sess.SessionKey, profile.EncryptedData, profile.IV, &user); err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.NickName, user.City, user.OpenID == "", sess.OpenID == id)
	// Output: Alice Hangzhou true true
}

// FailNext makes the next call fail: errcode -1 ("system error") is retried
// by wxauth, and Calls shows it.
func ExampleServer_FailNext() {
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret")
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	if err := srv.FailNext(wxauthtest.PathCode2Session, -1); err != nil {
		log.Fatal(err)
	}
	sess, err := app.Code2Session(context.Background(), srv.Login("o-bob"))
	fmt.Println(sess.OpenID, err)
	fmt.Println("calls:", srv.Calls(wxauthtest.PathCode2Session))
	// Output:
	// o-bob <nil>
	// calls: 2
}

// A test clock expires codes without waiting.
func ExampleWithClock() {
	clock := wxauthtest.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret", wxauthtest.WithClock(clock.Now))
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	code := srv.Login("o-carol")
	clock.Advance(wxauthtest.CodeTTL) // a code lives five minutes
	_, err = app.Code2Session(context.Background(), code)
	fmt.Println(errors.Is(err, wxauth.ErrInvalidCode))
	// Output: true
}
