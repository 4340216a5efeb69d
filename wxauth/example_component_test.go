package wxauth_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// refreshTokens is where an agency keeps the authorizer_refresh_token of
// each mini-program that authorized it: its database, in production.
type refreshTokens struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *refreshTokens) RefreshToken(_ context.Context, appID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[appID], nil
}

func (s *refreshTokens) SaveRefreshToken(_ context.Context, appID, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[appID] = tok
	return nil
}

// A third-party platform logs in the users of every mini-program that
// authorized it: WeChat pushes the ticket to the component's handler, an
// authorization event's code gives the mini-program's refresh token, and
// one login endpoint serves every authorizer (the body's appid picks it).
// Here a fake WeChat plays WeChat's part.
func ExampleNewComponent() {
	const componentAppID, secret, token = "wx0c0e1f2a3b4c5d6e", "component-secret-from-open-platform", "pushToken42"
	aesKey := wxauthtest.NewEncodingAESKey() // the console's 消息加解密Key
	fake := wxauthtest.NewComponentServer(componentAppID, secret, token, aesKey)
	defer fake.Close()

	var comp *wxauth.Component
	store := &refreshTokens{m: map[string]string{}}
	comp, err := wxauth.NewComponent(componentAppID, secret, token, aesKey,
		wxauth.WithBaseURL(fake.URL), // omit in production
		wxauth.WithRefreshTokens(store),
		// A fleet shares tickets and tokens: wxauth.WithTokenStore(redistoken.New(rdb)).
		wxauth.WithComponentEvents(func(ctx context.Context, ev *wxauth.ComponentEvent) error {
			if ev.InfoType == wxauth.InfoAuthorized {
				_, err := comp.QueryAuth(ctx, ev.AuthorizationCode) // saves the refresh token in store
				return err
			}
			return nil
		}))
	if err != nil {
		log.Fatal(err)
	}
	sessions := session.NewManager(nil)
	mux := http.NewServeMux()
	mux.Handle("POST /wechat/component", comp.TicketHandler()) // the authorization event URL
	mux.Handle("POST /api/login", session.LoginHandler(comp, sessions))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// WeChat pushes a ticket every ten minutes, and an event when a
	// mini-program authorizes the platform.
	ctx := context.Background()
	if err := fake.PushTicket(ctx, srv.URL+"/wechat/component"); err != nil {
		log.Fatal(err)
	}
	const shop = "wxa1b2c3d4e5f60718"
	if err := fake.PushEvent(ctx, srv.URL+"/wechat/component", wxauth.InfoAuthorized, shop); err != nil {
		log.Fatal(err)
	}

	// A user of that mini-program logs in.
	mp := fake.App(shop)
	openid := mp.AddUser(wxauthtest.User{PurePhoneNumber: "13800138000"})
	client, err := comp.App(ctx, shop)
	if err != nil {
		log.Fatal(err)
	}
	sess, err := client.Code2Session(ctx, mp.Login(openid))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.AppID == shop, sess.OpenID == openid)

	phoneCode, _ := mp.PhoneCode(openid)
	phone, err := client.(miniauth.PhoneExchanger).GetPhoneNumber(ctx, phoneCode, wxauth.ForOpenID(openid))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.PurePhoneNumber)

	_, err = comp.App(ctx, "")
	fmt.Println(err)
	// Output:
	// true true
	// 13800138000
	// wxauth: component serves many apps and no appid was given: miniauth: unknown app
}
