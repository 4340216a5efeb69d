package baiduauth_test

import (
	"context"
	"fmt"
	"log"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
)

// A login and a phone number against the fake, as a server does them with
// Baidu.
func Example() {
	const appKey, secret = "y2dTfnWfkx2OXttMEMWlGHoB1KzMogm7", "app-secret-from-the-console"
	baidu := baiduauthtest.NewServer(appKey, secret)
	defer baidu.Close()
	app, err := baiduauth.New(appKey, secret, baiduauth.WithBaseURL(baidu.URL))
	if err != nil {
		log.Fatal(err)
	}

	openID := baidu.AddUser(baiduauthtest.User{OpenID: "l214zFqNrEuIEnp6m7Y01sw8yj", Mobile: "15012345678"})
	code := baidu.Login(openID) // what swan.login hands the smart program
	sess, err := app.Code2Session(context.Background(), code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.Platform, sess.AppID == appKey, sess.OpenID, len(sess.SessionKey))

	enc, _ := baidu.Phone(openID) // the phone-number button's encryptedData and iv
	var phone miniauth.PhoneNumber
	if err := app.Decrypt(sess.SessionKey, enc.Data, enc.IV, &phone); err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.PurePhoneNumber)
	// Output:
	// baidu true l214zFqNrEuIEnp6m7Y01sw8yj 32
	// 15012345678
}
