package e2e_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
	"github.com/wxmp/miniauth/kuaishouauth"
	"github.com/wxmp/miniauth/kuaishouauth/kuaishouauthtest"
	"github.com/wxmp/miniauth/qqauth"
	"github.com/wxmp/miniauth/qqauth/qqauthtest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wecomauth"
	"github.com/wxmp/miniauth/wecomauth/wecomauthtest"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// The apps of the test: one per platform; the WeCom client serves the
// WeChat mini-program's own appid, as a mini-program opened in WeCom does.
const (
	wxAppID  = "wx4f4bc4dec97d474b"
	wxSecret = "wechat-secret-0123456789"
	qqAppID  = "1112345678"
	qqSecret = "qq-secret-0123456789"
	ttAppID  = "tt0123456789abcdef"
	ttSecret = "douyin-secret-0123456789"
	zfbAppID = "2021004100000001"
	bdAppKey = "y2dTfnWfkx2OXttMEMWlGHoB1KzMogm7"
	bdSecret = "Sk0123456789abcdefSk0123456789ab"
	ksAppID  = "ks671234567890123456"
	ksSecret = "ks-secret-0123456789"
	corpID   = "ww0123456789abcdef"
	corpSec  = "corp-secret-0123456789"
)

// fakes are the seven platforms' fakes, with the calls the login makes.
type fakes struct {
	wx *wxauthtest.Server
	qq *qqauthtest.Server
	tt *douyinauthtest.Server
	zf *alipayauthtest.Server
	bd *baiduauthtest.Server
	ks *kuaishouauthtest.Server
	qy *wecomauthtest.Server
}

// calls returns every upstream call count the fakes have made, by endpoint.
func (f *fakes) calls() map[string]int {
	return map[string]int{
		"wechat code2session": f.wx.Calls(wxauthtest.PathCode2Session),
		"wechat phone":        f.wx.Calls(wxauthtest.PathPhoneNumber),
		"wechat token":        f.wx.Calls(wxauthtest.PathToken) + f.wx.Calls(wxauthtest.PathStableToken),
		"qq code2session":     f.qq.Calls(qqauthtest.PathCode2Session),
		"douyin code2session": f.tt.Calls(douyinauthtest.PathCode2Session),
		"douyin phone":        f.tt.Calls(douyinauthtest.PathPhoneNumber),
		"alipay oauth.token":  f.zf.Calls(alipayauthtest.MethodOauthToken),
		"baidu code2session":  f.bd.Calls(baiduauthtest.PathCode2Session),
		"kuaishou login":      f.ks.Calls(kuaishouauthtest.PathCode2Session),
		"wecom code2session":  f.qy.Calls(wecomauthtest.PathCode2Session),
	}
}

// douyinKeys returns the PEM pair of the key Douyin encrypts phone numbers
// to: the app's private key (douyinauth) and its public key (the console).
func douyinKeys(t *testing.T) (private, public string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// setup starts the seven fakes and returns one NewApps of a client of each.
func setup(t *testing.T) (*fakes, *miniauth.AppSet) {
	t.Helper()
	priv, pub := douyinKeys(t)
	f := &fakes{
		wx: wxauthtest.NewServer(wxAppID, wxSecret),
		qq: qqauthtest.NewServer(qqAppID, qqSecret),
		tt: douyinauthtest.NewServer(ttAppID, ttSecret, douyinauthtest.WithAppPublicKey(pub)),
		zf: alipayauthtest.NewServer(zfbAppID),
		bd: baiduauthtest.NewServer(bdAppKey, bdSecret),
		ks: kuaishouauthtest.NewServer(ksAppID, ksSecret),
		qy: wecomauthtest.NewServer(corpID, corpSec),
	}
	for _, c := range []interface{ Close() }{f.wx, f.qq, f.tt, f.zf, f.bd, f.ks, f.qy} {
		t.Cleanup(c.Close)
	}
	const fast = time.Millisecond
	wx, err := wxauth.New(wxAppID, wxSecret, wxauth.WithBaseURL(f.wx.URL), wxauth.WithBackoff(fast, 2*fast))
	require.NoError(t, err)
	qq, err := qqauth.New(qqAppID, qqSecret, qqauth.WithBaseURL(f.qq.URL), qqauth.WithBackoff(fast, 2*fast))
	require.NoError(t, err)
	tt, err := douyinauth.New(ttAppID, ttSecret, douyinauth.WithBaseURL(f.tt.URL), douyinauth.WithPrivateKey(priv),
		douyinauth.WithBackoff(fast, 2*fast))
	require.NoError(t, err)
	zf, err := alipayauth.New(zfbAppID, f.zf.AppPrivateKey(), f.zf.AlipayPublicKey(), alipayauth.WithBaseURL(f.zf.URL),
		alipayauth.WithAESKey(f.zf.AESKey()), alipayauth.WithBackoff(fast, 2*fast))
	require.NoError(t, err)
	bd, err := baiduauth.New(bdAppKey, bdSecret, baiduauth.WithBaseURL(f.bd.URL), baiduauth.WithBackoff(fast, 2*fast))
	require.NoError(t, err)
	ks, err := kuaishouauth.New(ksAppID, ksSecret, kuaishouauth.WithBaseURL(f.ks.URL), kuaishouauth.WithBackoff(fast, 2*fast))
	require.NoError(t, err)
	qy, err := wecomauth.New(wxAppID, corpID, corpSec, wecomauth.WithBaseURL(f.qy.URL), wecomauth.WithBackoff(fast, 2*fast))
	require.NoError(t, err)
	apps, err := miniauth.NewApps(wx, qq, tt, zf, bd, ks, qy)
	require.NoError(t, err)
	return f, apps
}

// api is the backend under test: one login and one phone endpoint for
// every app, and the accounts behind them.
type api struct {
	t   *testing.T
	srv *httptest.Server
	m   *session.Manager
}

func newAPI(t *testing.T, apps miniauth.Apps) *api {
	t.Helper()
	m := session.NewManager(nil)
	// Douyin's and Alipay's phones are tied to no openid: they join users
	// here as after the application's own SMS check (account's own tests
	// cover the default, which refuses them).
	hook := session.WithOnLogin(account.OnLogin(account.NewLinker(account.NewMemoryStore(), account.WithUnboundPhoneJoin())))
	mux := http.NewServeMux()
	mux.Handle("POST /login", session.LoginHandler(apps, m, hook))
	mux.Handle("POST /phone", session.PhoneHandler(apps, m, hook))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, m: m}
}

// post sends body as JSON to path, with a bearer token when one is given,
// and returns the status and the decoded answer.
func (a *api) post(path, token string, body map[string]string) (int, map[string]any) {
	a.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(a.t, err)
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+path, strings.NewReader(string(b)))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.srv.Client().Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(a.t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

// record returns the session of an issued token.
func (a *api) record(m map[string]any) *session.Record {
	a.t.Helper()
	tok, _ := m["token"].(string)
	require.NotEmpty(a.t, tok, m)
	rec, err := a.m.Validate(context.Background(), tok)
	require.NoError(a.t, err)
	return rec
}

// TestEveryPlatformOneEndpoint logs a user of each of the seven platforms
// in through one LoginHandler, each with its platform's phone form where it
// has one: the session is of the right platform and app, and a user with a
// phone is registered.
func TestEveryPlatformOneEndpoint(t *testing.T) {
	t.Parallel()
	f, apps := setup(t)
	a := newAPI(t, apps)

	wxUser := f.wx.AddUser(wxauthtest.User{PurePhoneNumber: "13900000001", UnionID: "wx-union-1"})
	wxPhone, err := f.wx.PhoneCode(wxUser)
	require.NoError(t, err)
	ttUser := f.tt.AddUser(douyinauthtest.User{PurePhoneNumber: "13900000002"})
	ttPhone, err := f.tt.PhoneCode(ttUser)
	require.NoError(t, err)
	zfUser := f.zf.AddUser(alipayauthtest.User{Mobile: "13900000003"})
	zfPhone, err := f.zf.PhoneResponse(zfUser)
	require.NoError(t, err)
	bdUser := f.bd.AddUser(baiduauthtest.User{Mobile: "13900000004"})
	bdCode := f.bd.Login(bdUser) // the phone data is sealed with this login's key
	bdPhone, err := f.bd.Phone(bdUser)
	require.NoError(t, err)
	ksUser := f.ks.AddUser(kuaishouauthtest.User{PurePhoneNumber: "13900000005"})
	ksCode := f.ks.Login(ksUser)
	ksPhone, err := f.ks.PhoneNumber(ksUser)
	require.NoError(t, err)
	qqUser := f.qq.AddUser(qqauthtest.User{UnionID: "qq-union-1"})

	tests := []struct {
		name     string
		platform miniauth.Platform
		appID    string
		openID   string
		body     map[string]string
		phone    bool // the login carried a phone: the user is registered
	}{
		{"wechat phoneCode", miniauth.WeChat, wxAppID, wxUser,
			map[string]string{"appid": wxAppID, "platform": "wechat", "code": f.wx.Login(wxUser), "phoneCode": wxPhone}, true},
		{"qq", miniauth.QQ, qqAppID, qqUser,
			map[string]string{"appid": qqAppID, "code": f.qq.Login(qqUser)}, false},
		{"douyin phoneCode", miniauth.Douyin, ttAppID, ttUser,
			map[string]string{"appId": ttAppID, "code": f.tt.Login(ttUser), "phoneCode": ttPhone}, true},
		{"alipay phoneResponse", miniauth.Alipay, zfbAppID, zfUser,
			map[string]string{"appid": zfbAppID, "code": f.zf.AuthCode(zfUser), "phoneResponse": zfPhone}, true},
		{"baidu phoneEncryptedData", miniauth.Baidu, bdAppKey, bdUser,
			map[string]string{"appid": bdAppKey, "code": bdCode, "phoneEncryptedData": bdPhone.Data, "phoneIv": bdPhone.IV}, true},
		{"kuaishou phoneEncryptedData", miniauth.Kuaishou, ksAppID, ksUser,
			map[string]string{"appid": ksAppID, "code": ksCode, "phoneEncryptedData": ksPhone.EncryptedData, "phoneIv": ksPhone.IV}, true},
		{"wecom", miniauth.WeCom, wxAppID, "zhangsan",
			map[string]string{"appid": wxAppID, "platform": "wecom", "code": f.qy.Login("zhangsan")}, false},
	}
	subjects := map[string]bool{}
	for _, tt := range tests {
		status, m := a.post("/login", "", tt.body)
		require.Equal(t, http.StatusOK, status, "%s: %v", tt.name, m)
		assert.Equal(t, tt.openID, m["openid"], tt.name)
		assert.Equal(t, tt.phone, m["registered"], tt.name)
		rec := a.record(m)
		assert.Equal(t, tt.platform, rec.Platform, tt.name)
		assert.Equal(t, tt.appID, rec.AppID, tt.name)
		assert.Equal(t, tt.openID, rec.OpenID, tt.name)
		if tt.phone {
			require.NotEmpty(t, rec.Subject, tt.name)
			assert.False(t, subjects[rec.Subject], "%s: five phones, five users", tt.name)
			subjects[rec.Subject] = true
		} else {
			assert.Empty(t, rec.Subject, tt.name)
		}
	}
	assert.Len(t, subjects, 5)
}

// TestOnePhoneJoinsPlatforms is the account rule across platforms: a user
// who logs in on WeChat and then on Douyin with the same phone is one user,
// and a QQ user who binds that phone later through the phone handler joins
// them too; each token carries the same subject.
func TestOnePhoneJoinsPlatforms(t *testing.T) {
	t.Parallel()
	f, apps := setup(t)
	a := newAPI(t, apps)
	const phone = "13712345678"

	wxUser := f.wx.AddUser(wxauthtest.User{PurePhoneNumber: phone})
	wxPhone, err := f.wx.PhoneCode(wxUser)
	require.NoError(t, err)
	status, m := a.post("/login", "", map[string]string{"appid": wxAppID, "platform": "wechat", "code": f.wx.Login(wxUser), "phoneCode": wxPhone})
	require.Equal(t, http.StatusOK, status, m)
	assert.Equal(t, true, m["created"])
	user := a.record(m).Subject
	require.NotEmpty(t, user)

	ttUser := f.tt.AddUser(douyinauthtest.User{PurePhoneNumber: phone})
	ttPhone, err := f.tt.PhoneCode(ttUser)
	require.NoError(t, err)
	status, m = a.post("/login", "", map[string]string{"appid": ttAppID, "code": f.tt.Login(ttUser), "phoneCode": ttPhone})
	require.Equal(t, http.StatusOK, status, m)
	assert.Nil(t, m["created"], "the phone's user gains the Douyin openid")
	assert.Equal(t, user, a.record(m).Subject)

	// The Douyin openid is now known: a login without the phone finds the user.
	status, m = a.post("/login", "", map[string]string{"appid": ttAppID, "code": f.tt.Login(ttUser)})
	require.Equal(t, http.StatusOK, status, m)
	assert.Equal(t, user, a.record(m).Subject)

	// Alipay: a login without the phone has no user yet; the phone handler
	// binds the phone response and answers a new token with the subject.
	zfUser := f.zf.AddUser(alipayauthtest.User{Mobile: phone})
	status, m = a.post("/login", "", map[string]string{"appid": zfbAppID, "code": f.zf.AuthCode(zfUser)})
	require.Equal(t, http.StatusOK, status, m)
	assert.Equal(t, false, m["registered"])
	old := m["token"].(string)
	zfPhone, err := f.zf.PhoneResponse(zfUser)
	require.NoError(t, err)
	status, m = a.post("/phone", old, map[string]string{"phoneResponse": zfPhone})
	require.Equal(t, http.StatusOK, status, m)
	rec := a.record(m)
	assert.Equal(t, user, rec.Subject)
	assert.Equal(t, miniauth.Alipay, rec.Platform)
	_, err = a.m.Validate(context.Background(), old)
	assert.Error(t, err, "the token without a user ended")
}

// TestRefusedBeforeUpstream: an unknown app, an appid two platforms serve
// with no platform named, and a phone form the app's platform cannot use
// are refused 400 before any fake is called, and the login code is not
// spent.
func TestRefusedBeforeUpstream(t *testing.T) {
	t.Parallel()
	f, apps := setup(t)
	a := newAPI(t, apps)
	qqUser := f.qq.AddUser(qqauthtest.User{})
	qqCode := f.qq.Login(qqUser)
	wxUser := f.wx.AddUser(wxauthtest.User{})
	wxCode := f.wx.Login(wxUser)
	zfUser := f.zf.AddUser(alipayauthtest.User{})
	zfCode := f.zf.AuthCode(zfUser)
	zfPhone, err := f.zf.PhoneResponse(zfUser)
	require.NoError(t, err)

	tests := []struct {
		name string
		body map[string]string
		code string
	}{
		{"unknown appid", map[string]string{"appid": "wx0000000000000000", "code": wxCode}, "unknown_app"},
		{"no appid", map[string]string{"code": wxCode}, "unknown_app"},
		{"appid on another platform", map[string]string{"appid": qqAppID, "platform": "douyin", "code": qqCode}, "unknown_app"},
		{"one appid, two platforms, none named", map[string]string{"appid": wxAppID, "code": wxCode}, "unknown_app"},
		{"unknown platform", map[string]string{"appid": wxAppID, "platform": "myspace", "code": wxCode}, "unknown_app"},
		{"phoneCode on QQ", map[string]string{"appid": qqAppID, "code": qqCode, "phoneCode": "a-phone-code"}, "not_supported"},
		{"phoneResponse on WeChat", map[string]string{"appid": wxAppID, "platform": "wechat", "code": wxCode, "phoneResponse": zfPhone}, "not_supported"},
		{"phoneCode on Alipay", map[string]string{"appid": zfbAppID, "code": zfCode, "phoneCode": "a-phone-code"}, "not_supported"},
		{"phoneEncryptedData on Alipay", map[string]string{"appid": zfbAppID, "code": zfCode, "phoneEncryptedData": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "phoneIv": "AAAAAAAAAAAAAAAAAAAAAA=="}, "not_supported"},
		{"phoneCode on WeCom", map[string]string{"appid": wxAppID, "platform": "wecom", "code": f.qy.Login("lisi"), "phoneCode": "a-phone-code"}, "not_supported"},
	}
	before := f.calls()
	for _, tt := range tests {
		status, m := a.post("/login", "", tt.body)
		assert.Equal(t, http.StatusBadRequest, status, "%s: %v", tt.name, m)
		assert.Equal(t, tt.code, m["error"], tt.name)
	}
	assert.Equal(t, before, f.calls(), "no platform was called")

	// The codes were not spent: they log in now.
	for _, body := range []map[string]string{
		{"appid": qqAppID, "code": qqCode},
		{"appid": wxAppID, "platform": "wechat", "code": wxCode},
		{"appid": zfbAppID, "code": zfCode, "phoneResponse": zfPhone},
	} {
		status, m := a.post("/login", "", body)
		assert.Equal(t, http.StatusOK, status, "%v: %v", body, m)
	}
}

// TestEveryPlatformConcurrently logs users of the seven platforms in at
// once through the one handler: every login gets its own user's session,
// on its own platform and app.
func TestEveryPlatformConcurrently(t *testing.T) {
	t.Parallel()
	f, apps := setup(t)
	a := newAPI(t, apps)
	const perPlatform = 8
	type login struct {
		platform miniauth.Platform
		appID    string
		openID   string
		body     map[string]string
	}
	var logins []login
	for i := range perPlatform {
		wx := f.wx.AddUser(wxauthtest.User{})
		qq := f.qq.AddUser(qqauthtest.User{})
		tt := f.tt.AddUser(douyinauthtest.User{})
		zf := f.zf.AddUser(alipayauthtest.User{})
		bd := f.bd.AddUser(baiduauthtest.User{})
		ks := f.ks.AddUser(kuaishouauthtest.User{})
		qy := "member-" + strconv.Itoa(i)
		logins = append(logins,
			login{miniauth.WeChat, wxAppID, wx, map[string]string{"appid": wxAppID, "platform": "wechat", "code": f.wx.Login(wx)}},
			login{miniauth.QQ, qqAppID, qq, map[string]string{"appid": qqAppID, "code": f.qq.Login(qq)}},
			login{miniauth.Douyin, ttAppID, tt, map[string]string{"appid": ttAppID, "code": f.tt.Login(tt)}},
			login{miniauth.Alipay, zfbAppID, zf, map[string]string{"appid": zfbAppID, "code": f.zf.AuthCode(zf)}},
			login{miniauth.Baidu, bdAppKey, bd, map[string]string{"appid": bdAppKey, "code": f.bd.Login(bd)}},
			login{miniauth.Kuaishou, ksAppID, ks, map[string]string{"appid": ksAppID, "code": f.ks.Login(ks)}},
			login{miniauth.WeCom, wxAppID, qy, map[string]string{"appid": wxAppID, "platform": "wecom", "code": f.qy.Login(qy)}},
		)
	}
	type result struct {
		status int
		token  string
		answer map[string]any
	}
	results := make([]result, len(logins))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, l := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, _ := json.Marshal(l.body)
			resp, err := a.srv.Client().Post(a.srv.URL+"/login", "application/json", strings.NewReader(string(b)))
			if err != nil {
				results[i] = result{answer: map[string]any{"transport": err.Error()}}
				return
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			tok, _ := m["token"].(string)
			results[i] = result{status: resp.StatusCode, token: tok, answer: m}
		}()
	}
	close(start)
	wg.Wait()
	for i, l := range logins {
		r := results[i]
		require.Equal(t, http.StatusOK, r.status, "%s %s: %v", l.platform, l.openID, r.answer)
		rec, err := a.m.Validate(context.Background(), r.token)
		require.NoError(t, err)
		assert.Equal(t, l.platform, rec.Platform)
		assert.Equal(t, l.appID, rec.AppID)
		assert.Equal(t, l.openID, rec.OpenID)
	}
}
