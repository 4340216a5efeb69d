package kuaishouauth_test

import (
	"context"
	"fmt"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/kuaishouauth"
	"github.com/wxmp/miniauth/kuaishouauth/kuaishouauthtest"
)

// A Kuaishou login against the fake: the code from ks.login for the
// session, then the phone number the phone-number button encrypted.
func ExampleNew() {
	srv := kuaishouauthtest.NewServer("ks671234567890123456", "ks-app-secret")
	defer srv.Close()
	app, err := kuaishouauth.New("ks671234567890123456", "ks-app-secret", kuaishouauth.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}

	openID := srv.AddUser(kuaishouauthtest.User{OpenID: "f19a0c3e5b7d9f1a2c4e6a8b0d2f4a6c", PurePhoneNumber: "13912345678"})
	sess, err := app.Code2Session(context.Background(), srv.Login(openID)) // the code ks.login gave
	if err != nil {
		panic(err)
	}
	fmt.Println(sess.Platform, sess.OpenID)

	data, _ := srv.PhoneNumber(openID) // what the phone-number button gave the mini-program
	var phone miniauth.PhoneNumber
	if err := app.Decrypt(sess.SessionKey, data.EncryptedData, data.IV, &phone); err != nil {
		panic(err)
	}
	fmt.Println(phone.PurePhoneNumber, phone.CountryCode)
	// Output:
	// kuaishou f19a0c3e5b7d9f1a2c4e6a8b0d2f4a6c
	// 13912345678 86
}
