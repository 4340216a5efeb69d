package session_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// WithEncryptedDataCheck makes the login handler ask WeChat whether it
// produced the encryptedData of a login before the hook sees it: a
// ciphertext the client changed still decrypts (AES-CBC has no integrity),
// but WeChat does not know it. The fake WeChat of package wxauthtest plays
// WeChat here.
func ExampleWithEncryptedDataCheck() {
	const appID, secret = "wx1234567890abcdef", "example-secret-0123456789abcdef"
	wechat := wxauthtest.NewServer(appID, secret)
	defer wechat.Close()
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()
	login := session.LoginHandler(app, sessions, session.WithEncryptedDataCheck())
	post := func(body string) {
		rr := httptest.NewRecorder()
		login.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(body)))
		fmt.Println(rr.Code, strings.Contains(rr.Body.String(), `"token"`))
	}

	id := wechat.AddUser(wxauthtest.User{City: "Shenzhen"})
	code := wechat.Login(id)
	p, _ := wechat.Profile(id)
	post(fmt.Sprintf(`{"code":%q,"encryptedData":%q,"iv":%q}`, code, p.EncryptedData, p.IV))

	// A client that rewrote its city (here with the key, for brevity):
	code = wechat.Login(id)
	key, _ := wechat.SessionKey(id)
	p, _ = wechat.Profile(id)
	plain, _ := crypto.Decrypt(key, p.EncryptedData, p.IV)
	forged, _ := crypto.Encrypt(key, p.IV, []byte(strings.Replace(string(plain), "Shenzhen", "Beijing!", 1)))
	post(fmt.Sprintf(`{"code":%q,"encryptedData":%q,"iv":%q}`, code, forged, p.IV))
	// Output:
	// 200 true
	// 400 false
}
