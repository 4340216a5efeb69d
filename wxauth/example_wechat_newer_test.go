package wxauth_test

import (
	"context"
	"fmt"
	"log"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// The two signatures of a virtual-payment call, here WeChat's own worked
// example (AppKey 12345): pay_sig with the AppKey over uri&body, signature
// with the user's session_key (its base64 text, as jscode2session returned
// it) over the body. Both sign the body exactly as it is sent.
func ExampleXPayPaySignature() {
	const body = `{"offer_id": "12345678", "openid": "oUrsfxxxxxxxxxx", "ts": 1668136271, "zone_id": "1", "env": 0}`
	fmt.Println(wxauth.XPayPaySignature("12345", "/wxa/game/getbalance", body))
	fmt.Println(wxauth.XPayUserSignature("9hAb/NEYUlkaMBEsmFgzig==", body))
	// Output:
	// 11bac6388871d29c055c7d16fbe42e8d646855b666faf89b15c815218b1b23bd
	// 42fe1d3341fb1c8bd6f5014ba735ab04eacc80a2deb3ab4669eab4700b5b6729
}

// CheckEncryptedData asks WeChat whether it produced an encryptedData in
// the last three days: a ciphertext changed by the client (which AES-CBC
// cannot detect) is unknown to it. The fake WeChat of package wxauthtest
// plays WeChat here.
func ExampleApp_CheckEncryptedData() {
	const appID, secret = "wx0123456789abcdef", "example-secret-0123456789abcdef"
	wechat := wxauthtest.NewServer(appID, secret)
	defer wechat.Close()
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL)) // production: no WithBaseURL
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	wechat.Login("o-alice")
	data, err := wechat.Profile("o-alice") // what the mini-program received
	if err != nil {
		log.Fatal(err)
	}

	valid, _, err := app.CheckEncryptedData(ctx, data.EncryptedData)
	fmt.Println("as WeChat made it:", valid, err)
	forged := []byte(data.EncryptedData)
	forged[20] ^= 1 // a changed byte of ciphertext
	valid, _, err = app.CheckEncryptedData(ctx, string(forged))
	fmt.Println("changed:", valid, err)
	// Output:
	// as WeChat made it: true <nil>
	// changed: false <nil>
}

// With the API security mode on in the mini-program's console, WithAPISecurity
// takes what the console shows (the symmetric key and its number, the app's
// private key, the platform certificate by its serial), and GetPhoneNumber
// and CheckEncryptedData go encrypted and signed, their replies verified.
// The fake WeChat of package wxauthtest runs the mode here and hands out its
// keys; in production they come from the console (and a secret store).
func ExampleWithAPISecurity() {
	const appID, secret = "wx0123456789abcdef", "example-secret-0123456789abcdef"
	wechat := wxauthtest.NewServer(appID, secret, wxauthtest.WithAPISecurity())
	defer wechat.Close()
	keys, _ := wechat.APISecurity()

	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL), // production: no WithBaseURL
		wxauth.WithAPISecurity(wxauth.APISecurity{
			KeySN:        keys.KeySN,
			Key:          keys.Key,
			PrivateKey:   keys.PrivateKey,
			Certificates: map[string]string{keys.CertificateSN: keys.Certificate},
		}))
	if err != nil {
		log.Fatal(err)
	}
	id := wechat.AddUser(wxauthtest.User{PurePhoneNumber: "13800001234"})
	code, _ := wechat.PhoneCode(id)
	phone, err := app.GetPhoneNumber(context.Background(), code, wxauth.ForOpenID(id))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.PurePhoneNumber)
	// Output:
	// 13800001234
}
