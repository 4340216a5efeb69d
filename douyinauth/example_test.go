package douyinauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

// ExampleNew logs a Douyin user in and reads their phone number, against
// the fake.
func ExampleNew() {
	douyin := douyinauthtest.NewServer("tt0123456789abcdef", "app-secret")
	defer douyin.Close()
	app, err := douyinauth.New("tt0123456789abcdef", "app-secret",
		douyinauth.WithBaseURL(douyin.URL),             // not in production
		douyinauth.WithPrivateKey(douyin.PrivateKey()), // the pair of the console's 应用公钥
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	openid := douyin.AddUser(douyinauthtest.User{OpenID: "_000alice", PurePhoneNumber: "13800138000"})
	code := douyin.Login(openid) // what tt.login hands the mini-app
	sess, err := app.Code2Session(ctx, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.Platform, sess.OpenID)

	phoneCode, _ := douyin.PhoneCode(openid) // what the phone-number button hands it
	phone, err := app.GetPhoneNumber(ctx, phoneCode)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.PurePhoneNumber)

	// A code works once.
	_, err = app.Code2Session(ctx, code)
	fmt.Println(errors.Is(err, douyinauth.ErrInvalidCode))
	// Output:
	// douyin _000alice
	// 13800138000
	// true
}

// ExampleApp_Code2SessionAnonymous moves an anonymous user's data to their
// account when they log in.
func ExampleApp_Code2SessionAnonymous() {
	douyin := douyinauthtest.NewServer("tt0123456789abcdef", "app-secret")
	defer douyin.Close()
	app, err := douyinauth.New("tt0123456789abcdef", "app-secret", douyinauth.WithBaseURL(douyin.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Before logging in to the host app, tt.login gives an anonymousCode only.
	anon, err := app.AnonymousOpenID(ctx, douyin.AnonymousCode("_000device-42"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("anonymous:", anon)

	// Once logged in, it gives both: the session, and whose data to move.
	code, anonCode := douyin.Login("_000bob"), douyin.AnonymousCode("_000device-42")
	sess, from, err := app.Code2SessionAnonymous(ctx, code, anonCode)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", sess.OpenID, "takes over the data of", from)
	// Output:
	// anonymous: _000device-42
	// user: _000bob takes over the data of _000device-42
}

// ExampleAPIError reads Douyin's own code from an error.
func ExampleAPIError() {
	douyin := douyinauthtest.NewServer("tt0123456789abcdef", "app-secret")
	defer douyin.Close()
	app, err := douyinauth.New("tt0123456789abcdef", "wrong-secret", douyinauth.WithBaseURL(douyin.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = app.Code2Session(context.Background(), douyin.Login(""))
	var ae *douyinauth.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.Op, ae.Code, ae.Msg)
	}
	fmt.Println(errors.Is(err, douyinauth.ErrInvalidCredential))
	// Output:
	// jscode2session 40017 bad secret
	// true
}
