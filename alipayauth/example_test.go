package alipayauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
)

// A login and a phone number against the fake gateway, as a server does
// them with Alipay's.
func Example() {
	gateway := alipayauthtest.NewServer("2021004100000001")
	defer gateway.Close()
	app, err := alipayauth.New("2021004100000001", gateway.AppPrivateKey(), gateway.AlipayPublicKey(),
		alipayauth.WithAESKey(gateway.AESKey()), alipayauth.WithBaseURL(gateway.URL))
	if err != nil {
		log.Fatal(err)
	}

	id := gateway.AddUser(alipayauthtest.User{OpenID: "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", Mobile: "13912345678"})
	authCode := gateway.AuthCode(id) // what my.getAuthCode hands the mini-program
	sess, err := app.Code2Session(context.Background(), authCode)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.Platform, sess.OpenID, sess.SessionKey == "")

	response, _ := gateway.PhoneResponse(id) // my.getPhoneNumber's res.response
	phone, err := app.DecryptPhone(response)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.PurePhoneNumber)

	_, err = app.Code2Session(context.Background(), authCode)
	fmt.Println(errors.Is(err, miniauth.ErrInvalidCode))
	// Output:
	// alipay 074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5 true
	// 13912345678
	// true
}
