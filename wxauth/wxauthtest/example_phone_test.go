package wxauthtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// PhoneCode is what the phone-number button hands the mini-program; the
// server exchanges it with GetPhoneNumber, once. The access token this needs
// comes from the fake's own token endpoint.
func ExampleServer_PhoneCode() {
	const appID, secret = "wx0123456789abcdef", "app-secret"
	srv := wxauthtest.NewServer(appID, secret)
	defer srv.Close()
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	id := srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678"})
	code, err := srv.PhoneCode(id)
	if err != nil {
		log.Fatal(err)
	}
	phone, err := app.GetPhoneNumber(context.Background(), code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.PurePhoneNumber, phone.CountryCode, phone.Watermark.AppID)

	_, err = app.GetPhoneNumber(context.Background(), code)
	fmt.Println("again:", errors.Is(err, wxauth.ErrInvalidPhoneCode))
	// Output:
	// 13912345678 86 wx0123456789abcdef
	// again: true
}
