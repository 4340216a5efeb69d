package wxauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/wxauth"
)

// This example exchanges a wx.login code for a session. A stand-in for
// WeChat's API answers here; in production leave out WithBaseURL.
func ExampleApp_Code2Session() {
	wechat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain") // as WeChat does
		if r.URL.Query().Get("js_code") != "081mX0Ga1RbZpF0k5VIa1HkM0X3mX0Gd" {
			fmt.Fprint(w, `{"errcode":40029,"errmsg":"invalid code, rid: 6523f1a2"}`)
			return
		}
		fmt.Fprint(w, `{"openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`)
	}))
	defer wechat.Close()

	app, err := wxauth.New("wx4f4bc4dec97d474b", "0123456789abcdef0123456789abcdef", wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	sess, err := app.Code2Session(ctx, "081mX0Ga1RbZpF0k5VIa1HkM0X3mX0Gd")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("openid:", sess.OpenID)
	fmt.Println(sess) // the session_key never prints

	_, err = app.Code2Session(ctx, "an-expired-code")
	switch {
	case errors.Is(err, wxauth.ErrInvalidCode), errors.Is(err, wxauth.ErrCodeUsed):
		fmt.Println("ask the mini-program to call wx.login again:", err)
	case err != nil:
		log.Fatal(err)
	}
	// Output:
	// openid: oGZUI0egBJY1zhBYw2KhdUfwVJJE
	// miniauth.Session{Platform: "wechat", AppID: "wx4f4bc4dec97d474b", OpenID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE", UnionID: "", SessionKey: "REDACTED"}
	// ask the mini-program to call wx.login again: wxauth: code2session: errcode 40029: invalid code (rid: 6523f1a2)
}

// This example checks the signature that wx.getUserProfile sends beside
// rawData, with WeChat's published sample.
func ExampleApp_VerifySignature() {
	app, err := wxauth.New("wx4f4bc4dec97d474b", "0123456789abcdef0123456789abcdef")
	if err != nil {
		log.Fatal(err)
	}
	sessionKey := "HyVFkGl5F5OQWJZZaNzBBg=="
	rawData := `{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}`

	fmt.Println(app.VerifySignature(sessionKey, rawData, "75e81ceda165f4ffa64f4068af58c64b8f54b88c"))
	err = app.VerifySignature(sessionKey, rawData, "0000000000000000000000000000000000000000")
	fmt.Println(errors.Is(err, crypto.ErrSignature))
	// Output:
	// <nil>
	// true
}

// This example decrypts the encryptedData of wx.getUserProfile (WeChat's
// published sample) into a UserInfo. Its watermark must name this app.
func ExampleApp_Decrypt() {
	app, err := wxauth.New("wx4f4bc4dec97d474b", "0123456789abcdef0123456789abcdef")
	if err != nil {
		log.Fatal(err)
	}
	const (
		sessionKey    = "tiihtNczf5v6AKRyjwEUhQ=="
		iv            = "r7BXXKkLb8qrSNn05n0qiA=="
		encryptedData = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
	)
	var user wxauth.UserInfo
	if err := app.Decrypt(sessionKey, encryptedData, iv, &user); err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.OpenID, user.NickName, user.City)
	// Output:
	// oGZUI0egBJY1zhBYw2KhdUfwVJJE Band Guangzhou
}
