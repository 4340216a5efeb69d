package docs

// The miniauth side of every snippet in docs/migrating.md. Each declaration
// below is shown in the guide as it is here (TestMarkdownSnippets compares
// them), and each Example runs it against wxauthtest.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/redistoken"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	appID  = "wx0123456789abcdef"
	secret = "0123456789abcdef0123456789abcdef"
)

// newApp is the client set-up; it needs a Redis and is only compiled.
func newApp(rdb redis.UniversalClient, appID, secret string) (*wxauth.App, error) {
	tokens, err := redistoken.New(rdb) // one access_token for every instance of the fleet
	if err != nil {
		return nil, err
	}
	return wxauth.New(appID, secret, wxauth.WithTokenStore(tokens))
}

var _ = newApp

func code2Session(ctx context.Context, app wxauth.Client, code string) (*wxauth.Session, error) {
	sess, err := app.Code2Session(ctx, code)
	switch {
	case errors.Is(err, wxauth.ErrInvalidCode), errors.Is(err, wxauth.ErrCodeUsed):
		return nil, fmt.Errorf("call wx.login again: %w", err)
	case errors.Is(err, wxauth.ErrRateLimited):
		return nil, fmt.Errorf("too many logins, try again later: %w", err)
	case err != nil:
		return nil, err // WeChat down, or errors.Is(err, wxauth.ErrInvalidCredential): check appid and secret
	}
	return sess, nil // sess.OpenID, sess.UnionID; sess.SessionKey stays on the server
}

func decryptProfile(app wxauth.Client, sess *wxauth.Session, rawData, signature, encryptedData, iv string) (*wxauth.UserInfo, error) {
	if err := app.VerifySignature(sess.SessionKey, rawData, signature); err != nil {
		return nil, err // crypto.ErrSignature
	}
	var info wxauth.UserInfo
	if err := app.Decrypt(sess.SessionKey, encryptedData, iv, &info); err != nil {
		return nil, err // crypto.ErrDecrypt (one error whatever the cause), wxauth.ErrWatermark
	}
	// getUserProfile's encryptedData carries no openId: it is a profile, never an
	// identity. getUserInfo's carries one, and it must be this session's.
	if (info.OpenID != "" && info.OpenID != sess.OpenID) || (info.UnionID != "" && info.UnionID != sess.UnionID) {
		return nil, errors.New("encryptedData belongs to another user")
	}
	return &info, nil
}

func decryptPhone(app wxauth.Client, sessionKey, encryptedData, iv string) (*wxauth.PhoneNumber, error) {
	var phone wxauth.PhoneNumber
	if err := app.Decrypt(sessionKey, encryptedData, iv, &phone); err != nil {
		return nil, err // wxauth.ErrWatermark when the data was made for another app
	}
	return &phone, nil
}

func phoneLogin(ctx context.Context, app *wxauth.App, code, phoneCode string) (*wxauth.Session, *wxauth.PhoneNumber, error) {
	sess, err := app.Code2Session(ctx, code)
	if err != nil {
		return nil, nil, err // the phone code is not spent: retry with a new wx.login code and the same phone code
	}
	phone, err := app.GetPhoneNumber(ctx, phoneCode, wxauth.ForOpenID(sess.OpenID))
	if err != nil {
		return nil, nil, err // errors.Is(err, wxauth.ErrInvalidPhoneCode): unknown, expired, used, or another user's
	}
	return sess, phone, nil
}

func routes(app *wxauth.App, sessions *session.Manager) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", session.LoginHandler(app, sessions)) // {"code"} -> {"token", "expiresIn", "openid"}
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context()) // always there behind the middleware
		fmt.Fprintln(w, rec.OpenID)
	})))
	return mux
}

func errcode(err error) (code int, rid string) {
	var apiErr *wxauth.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code, apiErr.RID // the rid is what WeChat's support asks for
	}
	return 0, "" // not an answer from WeChat: a timeout, a refused connection, ...
}

// fake starts a fake WeChat and an App that talks to it.
func fake() (*wxauthtest.Server, *wxauth.App) {
	srv := wxauthtest.NewServer(appID, secret)
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return srv, app
}

func Example_code2Session() {
	srv, app := fake()
	defer srv.Close()
	ctx := context.Background()

	code := srv.Login("o-alice") // what wx.login hands the mini-program
	sess, err := code2Session(ctx, app, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.OpenID, sess.AppID)
	_, err = code2Session(ctx, app, code) // a code works once
	fmt.Println(errors.Is(err, wxauth.ErrCodeUsed))
	// Output:
	// o-alice wx0123456789abcdef
	// true
}

func Example_decryptProfile() {
	srv, app := fake()
	defer srv.Close()
	ctx := context.Background()
	srv.AddUser(wxauthtest.User{OpenID: "o-alice", NickName: "Alice"})

	sess, err := code2Session(ctx, app, srv.Login("o-alice"))
	if err != nil {
		log.Fatal(err)
	}
	p, err := srv.Profile("o-alice") // what wx.getUserProfile hands the mini-program
	if err != nil {
		log.Fatal(err)
	}
	info, err := decryptProfile(app, sess, p.RawData, p.Signature, p.EncryptedData, p.IV)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.NickName)
	_, err = decryptProfile(app, sess, p.RawData+" ", p.Signature, p.EncryptedData, p.IV)
	fmt.Println(errors.Is(err, crypto.ErrSignature))
	// Output:
	// Alice
	// true
}

func Example_decryptPhone() {
	srv, app := fake()
	defer srv.Close()
	sess, err := code2Session(context.Background(), app, srv.Login("o-alice"))
	if err != nil {
		log.Fatal(err)
	}

	// What the old phone-number button handed the mini-program (encryptedData, iv).
	const iv = "r7BXXKkLb8qrSNn05n0qiA=="
	encrypt := func(appID string) string {
		plain, _ := json.Marshal(map[string]any{
			"phoneNumber": "13912345678", "purePhoneNumber": "13912345678", "countryCode": "86",
			"watermark": map[string]any{"appid": appID, "timestamp": 1700000000},
		})
		data, err := crypto.Encrypt(sess.SessionKey, iv, plain)
		if err != nil {
			log.Fatal(err)
		}
		return data
	}

	phone, err := decryptPhone(app, sess.SessionKey, encrypt(appID), iv)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.PurePhoneNumber, phone.CountryCode)
	_, err = decryptPhone(app, sess.SessionKey, encrypt("wx-another-app"), iv)
	fmt.Println(errors.Is(err, wxauth.ErrWatermark))
	// Output:
	// 13912345678 86
	// true
}

func Example_phoneLogin() {
	srv, app := fake()
	defer srv.Close()
	ctx := context.Background()
	alice := srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678"})
	bob := srv.AddUser(wxauthtest.User{PurePhoneNumber: "13800000000"})

	phoneCode, err := srv.PhoneCode(alice) // from the phone-number button, e.detail.code
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = phoneLogin(ctx, app, "a-code-that-expired", phoneCode)
	fmt.Println("bad login code:", errors.Is(err, wxauth.ErrInvalidCode))
	sess, phone, err := phoneLogin(ctx, app, srv.Login(alice), phoneCode) // the same phone code still works
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.OpenID == alice, phone.PurePhoneNumber)

	bobsCode, err := srv.PhoneCode(bob)
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = phoneLogin(ctx, app, srv.Login(alice), bobsCode) // Bob's phone code with Alice's login
	fmt.Println("another user's phone code:", errors.Is(err, wxauth.ErrInvalidPhoneCode))
	// Output:
	// bad login code: true
	// true 13912345678
	// another user's phone code: true
}

func Example_routes() {
	srv, app := fake()
	defer srv.Close()
	sessions := session.NewManager(nil)
	defer sessions.Close()
	api := httptest.NewServer(routes(app, sessions))
	defer api.Close()

	body := strings.NewReader(`{"code":"` + srv.Login("o-alice") + `"}`)
	resp, err := api.Client().Post(api.URL+"/api/login", "application/json", body)
	if err != nil {
		log.Fatal(err)
	}
	var login struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expiresIn"`
	}
	err = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, login.ExpiresIn)

	req, _ := http.NewRequest(http.MethodGet, api.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = api.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	me, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(me)))
	// Output:
	// 200 86400
	// 200 o-alice
}

func Example_errcode() {
	srv, app := fake()
	ctx := context.Background()

	if err := srv.FailNext(wxauthtest.PathCode2Session, 45011); err != nil {
		log.Fatal(err)
	}
	_, err := app.Code2Session(ctx, srv.Login("o-alice"))
	code, _ := errcode(err)
	fmt.Println(code, errors.Is(err, wxauth.ErrRateLimited))

	srv.Close() // WeChat unreachable: the error says so, without the secret or the code
	code2 := srv.Login("o-alice")
	_, err = app.Code2Session(ctx, code2)
	code, _ = errcode(err)
	fmt.Println(code, strings.Contains(err.Error(), secret), strings.Contains(err.Error(), code2))
	// Output:
	// 45011 true
	// 0 false false
}
