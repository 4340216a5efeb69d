package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// A handler behind the middleware reads the logged-in user's session_key
// from the request's Record, here to sign a virtual payment: signData with
// the user's session_key (signature) and with the environment's AppKey
// (paySig), for wx.requestVirtualPayment. The key never leaves the server;
// only the signatures do. Put [session.Manager.RequireSessionKey] in front
// when a key WeChat has rotated since the login must be refused early.
func ExampleFromContext_xpaySignature() {
	ctx := context.Background()
	wechat := wxauthtest.NewServer("wx1234567890abcdef", "example-secret-0123456789abcdef")
	defer wechat.Close()
	app, err := wxauth.New("wx1234567890abcdef", "example-secret-0123456789abcdef", wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()
	sess, err := app.Code2Session(ctx, wechat.Login("oExampleUser0000000000000001"))
	if err != nil {
		log.Fatal(err)
	}
	token, err := sessions.Issue(ctx, sess)
	if err != nil {
		log.Fatal(err)
	}

	const appKey = "the AppKey of env 0, from the console" // 支付基础配置
	pay := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context()) // always there behind the middleware
		signData := `{"offerId":"123","buyQuantity":1,"env":0,"currencyType":"CNY","productId":"gold100","goodsPrice":100,"outTradeNo":"order-1","attach":""}`
		_ = json.NewEncoder(w).Encode(map[string]string{
			"signData":  signData,
			"signature": wxauth.XPayUserSignature(rec.SessionKey, signData),
			// The uri of wx.requestVirtualPayment's paySig is "requestVirtualPayment".
			"paySig": wxauth.XPayPaySignature(appKey, "requestVirtualPayment", signData),
		})
	}))

	r := httptest.NewRequest(http.MethodPost, "/api/pay", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rr := httptest.NewRecorder()
	pay.ServeHTTP(rr, r)
	var got map[string]string
	if err := json.Unmarshal(rr.Body.Bytes(), &got); err != nil {
		log.Fatal(err)
	}
	// The signature WeChat computes with the key it issued at this login:
	key, _ := wechat.SessionKey("oExampleUser0000000000000001")
	fmt.Println(rr.Code, got["signature"] == wxauth.XPayUserSignature(key, got["signData"]), len(got["paySig"]))
	// Output:
	// 200 true 64
}
