package wxauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/wxmp/miniauth/wxauth"
)

// fakeWeChat serves fixed replies for the token, phone-number and
// checksession APIs. (Package wxauthtest has a fuller fake.)
func fakeWeChat() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"access_token":"ACCESS_TOKEN_EXAMPLE","expires_in":7200}`)
	})
	mux.HandleFunc("POST /wxa/business/getuserphonenumber", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000",
			"purePhoneNumber":"13800138000","countryCode":86,"watermark":{"timestamp":1700000000,"appid":"wx0123456789abcdef"}}}`)
	})
	mux.HandleFunc("GET /wxa/checksession", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("openid") == "oStaleUser" {
			fmt.Fprint(w, `{"errcode":87009,"errmsg":"invalid signature"}`)
			return
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	return httptest.NewServer(mux)
}

func ExampleApp_AccessToken() {
	srv := fakeWeChat()
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// The first call fetches the token; later ones read it from memory until
	// shortly before it expires. Never log it.
	tok, err := app.AccessToken(ctx)
	if err != nil {
		log.Fatal(err)
	}
	again, _ := app.AccessToken(ctx)
	fmt.Println(len(tok) > 0, tok == again)
	// Output: true true
}

func ExampleApp_GetPhoneNumber() {
	srv := fakeWeChat()
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	// code is e.detail.code from the mini-program's getPhoneNumber button.
	phone, err := app.GetPhoneNumber(context.Background(), "code-from-the-button")
	switch {
	case errors.Is(err, wxauth.ErrInvalidCode):
		fmt.Println("ask the user to tap the button again")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(phone.PurePhoneNumber, phone.CountryCode)
	}
	// Output: 13800138000 86
}

func ExampleApp_CheckSessionKey() {
	srv := fakeWeChat()
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	const sessionKey = "tiihtNczf5v6AKRyjwEUhQ==" // as stored at login
	for _, openID := range []string{"oFreshUser", "oStaleUser"} {
		err := app.CheckSessionKey(context.Background(), openID, sessionKey)
		switch {
		case errors.Is(err, wxauth.ErrSessionKeyExpired):
			fmt.Println(openID, "stale: the client must wx.login again")
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println(openID, "valid")
		}
	}
	// Output:
	// oFreshUser valid
	// oStaleUser stale: the client must wx.login again
}

// A test of code that calls WeChat's token-guarded APIs needs no token
// endpoint: StaticTokenSource hands out a fixed token.
func ExampleStaticTokenSource() {
	srv := fakeWeChat()
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL),
		wxauth.WithTokenSource(wxauth.StaticTokenSource("TEST_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := app.AccessToken(context.Background())
	fmt.Println(tok)
	// Output: TEST_TOKEN
}
