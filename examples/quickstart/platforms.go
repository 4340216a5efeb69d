package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// The apps of the second part: one per platform.
const (
	douyinAppID  = "tt0123456789abcdef"
	douyinSecret = "quickstart-douyin-secret-not-real"
	alipayAppID  = "2021004100000001"
	carolPhone   = "13700137000"
)

// manyPlatforms is the second part: one person, Carol, logs in to the same
// product on WeChat, Douyin and Alipay, each with its own phone button. One
// miniauth.NewApps of the three apps stands behind one login endpoint, and
// package account joins the three identities into one user by the phone.
func manyPlatforms(ctx context.Context, step func(string, ...any), wechat *wxauthtest.Server, wx *wxauth.App) error {
	// The other platforms' fakes, as the WeChat one: local, offline.
	// Douyin encrypts phone numbers to the app's RSA public key (registered
	// in its console); the server holds the private key.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	privPEM, pubPEM, err := pemPair(key)
	if err != nil {
		return err
	}
	douyin, err := douyinauthtest.Start(douyinAppID, douyinSecret, douyinauthtest.WithAppPublicKey(pubPEM))
	if err != nil {
		return err
	}
	defer douyin.Close()
	alipay, err := alipayauthtest.Start(alipayAppID)
	if err != nil {
		return err
	}
	defer alipay.Close()

	// --- the server: one client per app, one set, one endpoint ---
	tt, err := douyinauth.New(douyinAppID, douyinSecret, douyinauth.WithBaseURL(douyin.URL), douyinauth.WithPrivateKey(privPEM))
	if err != nil {
		return err
	}
	zfb, err := alipayauth.New(alipayAppID, alipay.AppPrivateKey(), alipay.AlipayPublicKey(),
		alipayauth.WithBaseURL(alipay.URL), alipayauth.WithAESKey(alipay.AESKey()))
	if err != nil {
		return err
	}
	apps, err := miniauth.NewApps(wx, tt, zfb)
	if err != nil {
		return err
	}
	sessions := session.NewManager(nil)
	defer sessions.Close()
	// Douyin's phone code and Alipay's phone response prove the number to
	// whoever holds them, not to the login's openid: by default a Linker
	// lets such a phone join no existing user (409 phone_taken). This demo
	// lets them join, as an application does once it has checked the
	// number itself (an SMS code).
	hook := session.WithOnLogin(account.OnLogin(account.NewLinker(account.NewMemoryStore(), account.WithUnboundPhoneJoin())))
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", session.LoginHandler(apps, sessions, hook))
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"platform": string(rec.Platform), "user": rec.Subject})
	})))
	server := httptest.NewServer(mux)
	defer server.Close()
	c := client{base: server.URL, ctx: ctx}
	step("three platforms behind one miniauth.NewApps: wechat %s, douyin %s, alipay %s", appID, douyinAppID, alipayAppID)

	// me returns the platform and user of a token's session.
	me := func(token string) (platform, user string, err error) {
		_, b, err := c.do(http.MethodGet, "/api/me", token, "")
		if err != nil {
			return "", "", err
		}
		var v map[string]string
		if err := json.Unmarshal(b, &v); err != nil {
			return "", "", fmt.Errorf("/api/me: %q: %w", b, err)
		}
		return v["platform"], v["user"], nil
	}
	// login posts body and prints what the session is.
	var first string
	login := func(label string, body map[string]string) error {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		status, m, err := c.post("/api/login", "", string(b))
		if err != nil {
			return err
		}
		token, _ := m["token"].(string)
		platform, user, err := me(token)
		if err != nil {
			return err
		}
		if first == "" {
			first = user
			step("%s -> %d created %v; GET /api/me -> platform %s, with a user: %t",
				label, status, m["created"] == true, platform, user != "")
			return nil
		}
		step("%s -> %d created %v; GET /api/me -> platform %s, the same user as on WeChat: %t",
			label, status, m["created"] == true, platform, user == first)
		return nil
	}

	// --- the mini-programs: Carol on each platform, with its phone button ---
	carol := wechat.AddUser(wxauthtest.User{PurePhoneNumber: carolPhone})
	phoneCode, err := wechat.PhoneCode(carol)
	if err != nil {
		return err
	}
	if err := login("WeChat: POST /api/login {appid, code (wx.login), phoneCode}",
		map[string]string{"appid": appID, "code": wechat.Login(carol), "phoneCode": phoneCode}); err != nil {
		return err
	}

	carolTT := douyin.AddUser(douyinauthtest.User{PurePhoneNumber: carolPhone})
	ttPhone, err := douyin.PhoneCode(carolTT)
	if err != nil {
		return err
	}
	if err := login("Douyin: POST /api/login {appid, code (tt.login), phoneCode} (a phone the app checked itself: WithUnboundPhoneJoin)",
		map[string]string{"appid": douyinAppID, "code": douyin.Login(carolTT), "phoneCode": ttPhone}); err != nil {
		return err
	}

	carolZFB := alipay.AddUser(alipayauthtest.User{Mobile: carolPhone})
	response, err := alipay.PhoneResponse(carolZFB) // my.getPhoneNumber's res.response
	if err != nil {
		return err
	}
	if err := login("Alipay: POST /api/login {appid, code (my.getAuthCode), phoneResponse} (the same)",
		map[string]string{"appid": alipayAppID, "code": alipay.AuthCode(carolZFB), "phoneResponse": response}); err != nil {
		return err
	}

	// An appid the set does not serve is refused before any platform is called.
	before := wechat.Calls(wxauthtest.PathCode2Session) + douyin.Calls(douyinauthtest.PathCode2Session) +
		alipay.Calls(alipayauthtest.MethodOauthToken)
	status, refused, err := c.post("/api/login", "", `{"appid":"wx0000000000000000","code":"`+wechat.Login(carol)+`"}`)
	if err != nil {
		return err
	}
	after := wechat.Calls(wxauthtest.PathCode2Session) + douyin.Calls(douyinauthtest.PathCode2Session) +
		alipay.Calls(alipayauthtest.MethodOauthToken)
	step("POST /api/login {appid of no app here, code} -> %d %v; platforms called: %d", status, refused["error"], after-before)
	return nil
}

// pemPair returns key as PKCS#8 and its public key as PKIX, in PEM.
func pemPair(key *rsa.PrivateKey) (private, public string, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), nil
}
