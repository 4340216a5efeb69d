package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
	"github.com/wxmp/miniauth/baiduauth/baiduauthtest"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
	"github.com/wxmp/miniauth/kuaishouauth/kuaishouauthtest"
	"github.com/wxmp/miniauth/qqauth/qqauthtest"
	"github.com/wxmp/miniauth/wecomauth/wecomauthtest"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// Fake mode's credentials: the fakes check them, nothing else knows them.
const (
	fakeCorpID     = "wwfake0000000000000"
	fakePhone      = "13800138000"
	fakeWeComUser  = "devuser"
	fakePlatSecret = "fake-secret-for-local-development"
)

// devApp is one configured app's fake in -fake mode, and its test user.
type devApp struct {
	platform miniauth.Platform
	appID    string
	url      string
	close    func()
	// code returns a fresh login code of the test user.
	code func() string
	// phone returns the login body's phone fields of the test user, in the
	// form of the platform; nil phone: the platform has none.
	phone func() (map[string]string, error)
}

// devApps are the fakes of -fake mode.
type devApps []*devApp

// find returns the fake of appid (on platform, when given); with no appid,
// the only one.
func (d devApps) find(platform miniauth.Platform, appID string) (*devApp, error) {
	var found *devApp
	for _, a := range d {
		if (appID != "" && a.appID != appID) || (platform != "" && a.platform != platform) {
			continue
		}
		if found != nil {
			return nil, errors.New("several fake apps match: name the appid (and the platform)")
		}
		found = a
	}
	if found == nil {
		return nil, errors.New("no fake app has this appid (and platform)")
	}
	return found, nil
}

func (d devApps) closeAll() {
	for _, a := range d {
		a.close()
	}
}

// startFake starts the fake of c's platform with a test user, and returns
// it with the config of a client that talks to it: the fake's credentials
// replace the config's keys, which -fake does not need.
func startFake(c appConfig, wxUser string) (*devApp, appConfig, error) {
	a := &devApp{platform: c.Platform, appID: c.AppID}
	fc := appConfig{Platform: c.Platform, AppID: c.AppID, Secret: fakePlatSecret}
	switch c.Platform {
	case miniauth.WeChat:
		f, err := wxauthtest.Start(c.AppID, fakePlatSecret)
		if err != nil {
			return nil, fc, err
		}
		f.AddUser(wxauthtest.User{OpenID: wxUser, NickName: "Dev User", PurePhoneNumber: fakePhone})
		return wechatDev(f, c.AppID, wxUser), fc, nil
	case miniauth.QQ:
		f, err := qqauthtest.Start(c.AppID, fakePlatSecret)
		if err != nil {
			return nil, fc, err
		}
		id := f.AddUser(qqauthtest.User{NickName: "Dev User"})
		a.url, a.close = f.URL, f.Close
		a.code = func() string { return f.Login(id) }
	case miniauth.Douyin:
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fc, err
		}
		priv, pub, err := pemPair(key)
		if err != nil {
			return nil, fc, err
		}
		f, err := douyinauthtest.Start(c.AppID, fakePlatSecret, douyinauthtest.WithAppPublicKey(pub))
		if err != nil {
			return nil, fc, err
		}
		fc.PrivateKey = priv
		id := f.AddUser(douyinauthtest.User{PurePhoneNumber: fakePhone})
		a.url, a.close = f.URL, f.Close
		a.code = func() string { return f.Login(id) }
		a.phone = func() (map[string]string, error) {
			pc, err := f.PhoneCode(id)
			return map[string]string{"phoneCode": pc}, err
		}
	case miniauth.Alipay:
		f, err := alipayauthtest.Start(c.AppID)
		if err != nil {
			return nil, fc, err
		}
		fc.Secret, fc.PrivateKey, fc.AlipayPublicKey, fc.AESKey = "", f.AppPrivateKey(), f.AlipayPublicKey(), f.AESKey()
		id := f.AddUser(alipayauthtest.User{Mobile: fakePhone})
		a.url, a.close = f.URL, f.Close
		a.code = func() string { return f.AuthCode(id) }
		a.phone = func() (map[string]string, error) {
			r, err := f.PhoneResponse(id)
			return map[string]string{"phoneResponse": r}, err
		}
	case miniauth.Baidu:
		f, err := baiduauthtest.Start(c.AppID, fakePlatSecret)
		if err != nil {
			return nil, fc, err
		}
		id := f.AddUser(baiduauthtest.User{Mobile: fakePhone})
		a.url, a.close = f.URL, f.Close
		a.code = func() string { return f.Login(id) }
		a.phone = func() (map[string]string, error) { // sealed with the latest login's key
			e, err := f.Phone(id)
			return map[string]string{"phoneEncryptedData": e.Data, "phoneIv": e.IV}, err
		}
	case miniauth.Kuaishou:
		f, err := kuaishouauthtest.Start(c.AppID, fakePlatSecret)
		if err != nil {
			return nil, fc, err
		}
		id := f.AddUser(kuaishouauthtest.User{PurePhoneNumber: fakePhone})
		a.url, a.close = f.URL, f.Close
		a.code = func() string { return f.Login(id) }
		a.phone = func() (map[string]string, error) { // sealed with the latest login's key
			p, err := f.PhoneNumber(id)
			return map[string]string{"phoneEncryptedData": p.EncryptedData, "phoneIv": p.IV}, err
		}
	case miniauth.WeCom:
		f, err := wecomauthtest.Start(fakeCorpID, fakePlatSecret)
		if err != nil {
			return nil, fc, err
		}
		fc.CorpID = fakeCorpID
		a.url, a.close = f.URL, f.Close
		a.code = func() string { return f.Login(fakeWeComUser) }
	default:
		return nil, fc, fmt.Errorf("no fake of platform %q", c.Platform)
	}
	return a, fc, nil
}

// wechatDev is the devApp of a fake WeChat and its user openID.
func wechatDev(f *wxauthtest.Server, appID, openID string) *devApp {
	return &devApp{
		platform: miniauth.WeChat, appID: appID, url: f.URL, close: f.Close,
		code: func() string { return f.Login(openID) },
		phone: func() (map[string]string, error) {
			pc, err := f.PhoneCode(openID)
			return map[string]string{"phoneCode": pc}, err
		},
	}
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

// sorted returns d ordered by platform and appid, for printing.
func (d devApps) sorted() devApps {
	out := append(devApps(nil), d...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].platform != out[j].platform {
			return out[i].platform < out[j].platform
		}
		return out[i].appID < out[j].appID
	})
	return out
}
