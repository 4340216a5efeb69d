package wecomauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
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

// TestLoginHandlerAcrossPlatforms logs users of QQ, Kuaishou (with its
// encrypted phone number), WeCom and WeChat in through one LoginHandler;
// WeChat and WeCom share one appid, which the body's platform tells apart.
func TestLoginHandlerAcrossPlatforms(t *testing.T) {
	const (
		wxAppID = "wx4f4bc4dec97d474b"
		qqAppID = "1112345678"
		ksAppID = "ks671234567890123456"
	)
	wxFake := wxauthtest.NewServer(wxAppID, "wechat-secret-0123456789")
	qqFake := qqauthtest.NewServer(qqAppID, "qq-secret-0123456789")
	ksFake := kuaishouauthtest.NewServer(ksAppID, "ks-secret-0123456789")
	qyFake := wecomauthtest.NewServer(testCorpID, testSecret)
	for _, c := range []interface{ Close() }{wxFake, qqFake, ksFake, qyFake} {
		t.Cleanup(c.Close)
	}
	wx, err := wxauth.New(wxAppID, "wechat-secret-0123456789", wxauth.WithBaseURL(wxFake.URL))
	require.NoError(t, err)
	qq, err := qqauth.New(qqAppID, "qq-secret-0123456789", qqauth.WithBaseURL(qqFake.URL))
	require.NoError(t, err)
	ks, err := kuaishouauth.New(ksAppID, "ks-secret-0123456789", kuaishouauth.WithBaseURL(ksFake.URL))
	require.NoError(t, err)
	qy, err := wecomauth.New(wxAppID, testCorpID, testSecret, wecomauth.WithBaseURL(qyFake.URL))
	require.NoError(t, err)
	apps, err := miniauth.NewApps(wx, qq, ks, qy)
	require.NoError(t, err)

	var phones []string
	h := session.LoginHandler(apps, session.NewManager(nil), session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
		if info.Phone != nil {
			phones = append(phones, info.Phone.PurePhoneNumber)
		}
		return nil, nil
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	login := func(body map[string]string) (int, map[string]any) {
		b, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(string(b)))
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}

	qqUser := qqFake.AddUser(qqauthtest.User{})
	st, m := login(map[string]string{"appid": qqAppID, "code": qqFake.Login(qqUser)})
	require.Equal(t, http.StatusOK, st, m)
	assert.Equal(t, qqUser, m["openid"])

	ksUser := ksFake.AddUser(kuaishouauthtest.User{PurePhoneNumber: "13912345678"})
	code := ksFake.Login(ksUser)
	ph, err := ksFake.PhoneNumber(ksUser)
	require.NoError(t, err)
	st, m = login(map[string]string{"appid": ksAppID, "code": code, "phoneEncryptedData": ph.EncryptedData, "phoneIv": ph.IV})
	require.Equal(t, http.StatusOK, st, m)
	assert.Equal(t, ksUser, m["openid"])
	assert.Equal(t, []string{"13912345678"}, phones)

	code = qyFake.Login("zhangsan")
	prof, err := qyFake.EnterpriseUserInfo(wxAppID, "zhangsan") // rawData, signature and encryptedData checked
	require.NoError(t, err)
	st, m = login(map[string]string{"appid": wxAppID, "platform": "wecom", "code": code,
		"rawData": prof.RawData, "signature": prof.Signature, "encryptedData": prof.EncryptedData, "iv": prof.IV})
	require.Equal(t, http.StatusOK, st, m)
	assert.Equal(t, "zhangsan", m["openid"])

	wxUser := wxFake.AddUser(wxauthtest.User{})
	st, m = login(map[string]string{"appid": wxAppID, "platform": "wechat", "code": wxFake.Login(wxUser)})
	require.Equal(t, http.StatusOK, st, m)
	assert.Equal(t, wxUser, m["openid"])

	// One appid on two platforms without a platform: ambiguous, refused
	// before any call upstream.
	before := qyFake.Calls(wecomauthtest.PathCode2Session)
	st, m = login(map[string]string{"appid": wxAppID, "code": qyFake.Login("lisi")})
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, "unknown_app", m["error"])
	assert.Equal(t, before, qyFake.Calls(wecomauthtest.PathCode2Session))

	// QQ has no phone by code: refused before the login code is spent.
	code = qqFake.Login(qqUser)
	st, m = login(map[string]string{"appid": qqAppID, "code": code, "phoneCode": "some-phone-code"})
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, "not_supported", m["error"])
	st, _ = login(map[string]string{"appid": qqAppID, "code": code})
	assert.Equal(t, http.StatusOK, st, "the code was not spent")
}
