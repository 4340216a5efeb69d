package qqauth_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/qqauth"
	"github.com/wxmp/miniauth/qqauth/qqauthtest"
)

// A QQ login against the fake: the code from qq.login for the session, then
// the profile's signature and encryptedData.
func ExampleNew() {
	srv := qqauthtest.NewServer("1112345678", "qq-app-secret")
	defer srv.Close()
	app, err := qqauth.New("1112345678", "qq-app-secret", qqauth.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}

	openID := srv.AddUser(qqauthtest.User{OpenID: "3A8F0C6E9D2B4F1A7E5C3B9D0F2A4C6E", NickName: "小企鹅"})
	sess, err := app.Code2Session(context.Background(), srv.Login(openID)) // the code qq.login gave
	if err != nil {
		panic(err)
	}
	fmt.Println(sess.Platform, sess.OpenID)

	p, _ := srv.Profile(openID) // what qq.getUserInfo gave the mini-program
	if err := app.VerifySignature(sess.SessionKey, p.RawData, p.Signature); err != nil {
		panic(err)
	}
	var u qqauth.UserInfo
	if err := app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &u); err != nil {
		panic(err)
	}
	fmt.Println(u.NickName)

	_, err = app.Code2Session(context.Background(), "a-code-qq-never-issued")
	fmt.Println(errors.Is(err, miniauth.ErrInvalidCode))
	// Output:
	// qq 3A8F0C6E9D2B4F1A7E5C3B9D0F2A4C6E
	// 小企鹅
	// true
}
