package crypto_test

import (
	"encoding/json"
	"fmt"

	"github.com/wxmp/miniauth/crypto"
)

// Decrypt WeChat's published encryptedData sample, then check its watermark.
func ExampleDecrypt() {
	const (
		appID         = "wx4f4bc4dec97d474b"
		sessionKey    = "tiihtNczf5v6AKRyjwEUhQ=="
		iv            = "r7BXXKkLb8qrSNn05n0qiA=="
		encryptedData = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
	)

	plaintext, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		fmt.Println(err)
		return
	}
	var user struct {
		OpenID    string           `json:"openId"`
		Watermark crypto.Watermark `json:"watermark"`
	}
	if err := json.Unmarshal(plaintext, &user); err != nil {
		fmt.Println(err)
		return
	}
	// CBC has no integrity: always check that the data was meant for this app.
	if user.Watermark.AppID != appID {
		fmt.Println("data is for another app")
		return
	}
	fmt.Println(user.OpenID)
	// Output: oGZUI0egBJY1zhBYw2KhdUfwVJJE
}

// Check the signature WeChat sends beside rawData (its published sample).
func ExampleVerifySignature() {
	const (
		sessionKey = "HyVFkGl5F5OQWJZZaNzBBg=="
		rawData    = `{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}`
		signature  = "75e81ceda165f4ffa64f4068af58c64b8f54b88c"
	)

	fmt.Println(crypto.VerifySignature(sessionKey, rawData, signature))
	fmt.Println(crypto.VerifySignature(sessionKey, `{"nickName":"Mallory"}`, signature))
	// Output:
	// <nil>
	// crypto: signature mismatch
}

// Sign is what a fake WeChat uses to hand a client a signature of rawData.
func ExampleSign() {
	sessionKey := "HyVFkGl5F5OQWJZZaNzBBg=="
	rawData := `{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}`

	fmt.Println(crypto.Sign(sessionKey, rawData))
	// Output: 75e81ceda165f4ffa64f4068af58c64b8f54b88c
}

// The signature parameter of GET /wxa/checksession.
func ExampleSessionKeySignature() {
	fmt.Println(crypto.SessionKeySignature("tiihtNczf5v6AKRyjwEUhQ=="))
	// Output: 7154f9f8b4b76b92f541cbf0e37d48840fa06e5e42da92a6f80168a1516a4735
}

// Encrypt makes encryptedData as WeChat would, for a fake server or a test.
func ExampleEncrypt() {
	const (
		sessionKey = "MDEyMzQ1Njc4OWFiY2RlZg==" // base64 of 16 bytes
		iv         = "ZmVkY2JhOTg3NjU0MzIxMA=="
	)

	encryptedData, err := crypto.Encrypt(sessionKey, iv, []byte(`{"openId":"o-test"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	plaintext, err := crypto.Decrypt(sessionKey, encryptedData, iv)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(plaintext))
	// Output: {"openId":"o-test"}
}
