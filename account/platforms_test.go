package account_test

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
	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// TestOnLoginAcrossPlatforms: a WeChat app and a Douyin app behind one
// LoginHandler with one OnLogin hook, each login at its own fake. The phone
// joins a person's WeChat and Douyin identities into one user; a unionid
// of one platform finds no one on the other; a second Douyin openid with
// the phone is refused 409.
func TestOnLoginAcrossPlatforms(t *testing.T) {
	const dyAppID, dySecret = "tt0123456789abcdef", "douyin-secret"
	wx := wxauthtest.NewServer(appID, secret)
	t.Cleanup(wx.Close)
	wxApp, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wx.URL))
	require.NoError(t, err)
	dy := douyinauthtest.NewServer(dyAppID, dySecret)
	t.Cleanup(dy.Close)
	dyApp, err := douyinauth.New(dyAppID, dySecret, douyinauth.WithBaseURL(dy.URL), douyinauth.WithPrivateKey(dy.PrivateKey()))
	require.NoError(t, err)
	apps, err := miniauth.NewApps(wxApp, dyApp)
	require.NoError(t, err)

	m := session.NewManager(nil)
	t.Cleanup(func() { _ = m.Close() })
	// Douyin's phone code is tied to no openid: this application checks
	// the number itself (an SMS code, say) and lets it join.
	linker := account.NewLinker(account.NewMemoryStore(), account.WithUnboundPhoneJoin())
	h := session.LoginHandler(apps, m, session.WithOnLogin(account.OnLogin(linker)))
	login := poster(t, h)
	subject := func(token any) string {
		t.Helper()
		rec, err := m.Validate(context.Background(), token.(string))
		require.NoError(t, err)
		return rec.Subject
	}

	// Alice, on WeChat, with her phone: a new user.
	aliceWx := wx.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678", CountryCode: "86", UnionID: "u-alice"})
	phoneCode, err := wx.PhoneCode(aliceWx)
	require.NoError(t, err)
	code, resp := login(map[string]string{"appid": appID, "code": wx.Login(aliceWx), "phoneCode": phoneCode})
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, true, resp["created"])
	alice := subject(resp["token"])

	// Alice on Douyin, the same unionid string, no phone: no one (a WeChat
	// unionid means nothing on Douyin).
	aliceDy := dy.AddUser(douyinauthtest.User{PurePhoneNumber: "13912345678", CountryCode: "86", UnionID: "u-alice"})
	code, resp = login(map[string]string{"appid": dyAppID, "code": dy.Login(aliceDy)})
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, false, resp["registered"])

	// With her phone: her user, which gains the Douyin openid and unionid.
	phoneCode, err = dy.PhoneCode(aliceDy)
	require.NoError(t, err)
	code, resp = login(map[string]string{"appid": dyAppID, "code": dy.Login(aliceDy), "phoneCode": phoneCode})
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, true, resp["registered"])
	assert.Nil(t, resp["created"])
	assert.Equal(t, alice, subject(resp["token"]), "one phone, one user across platforms")
	links, err := linker.Links(context.Background(), alice)
	require.NoError(t, err)
	assert.Equal(t, "+8613912345678", links.Phone)
	assert.Equal(t, []account.OpenID{
		{Platform: miniauth.Douyin, AppID: dyAppID, OpenID: aliceDy},
		{Platform: miniauth.WeChat, AppID: appID, OpenID: aliceWx},
	}, links.OpenIDs)
	assert.Equal(t, []account.UnionID{{Platform: miniauth.Douyin, UnionID: "u-alice"}, {Platform: miniauth.WeChat, UnionID: "u-alice"}}, links.UnionIDs)

	// Later Douyin logins need no phone.
	code, resp = login(map[string]string{"appid": dyAppID, "code": dy.Login(aliceDy)})
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, alice, subject(resp["token"]))

	// Another Douyin account of the same app with Alice's phone: refused.
	mallory := dy.AddUser(douyinauthtest.User{PurePhoneNumber: "13912345678", CountryCode: "86"})
	phoneCode, err = dy.PhoneCode(mallory)
	require.NoError(t, err)
	code, resp = login(map[string]string{"appid": dyAppID, "code": dy.Login(mallory), "phoneCode": phoneCode})
	assert.Equal(t, http.StatusConflict, code, resp)
	assert.Equal(t, account.CodePhoneTaken, resp["error"])
	assert.NotContains(t, resp["message"], "13912345678")
}

// poster returns a function that posts a JSON body to h and returns the
// status and the decoded answer.
func poster(t *testing.T, h http.Handler) func(body map[string]string) (int, map[string]any) {
	return func(body map[string]string) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(string(b))))
		var resp map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp), w.Body.String())
		return w.Code, resp
	}
}

// TestUnboundPhonesJoinNoOne: through the real handlers and fakes, with a
// Linker of default options, a WeChat phone code (exchanged with the
// openid) joins a second WeChat app's login to the user who has the phone,
// while a Douyin phone code, which Douyin ties to no openid (so that
// whoever holds one holds the number), joins no one: 409 phone_taken, and
// nothing bound.
func TestUnboundPhonesJoinNoOne(t *testing.T) {
	const otherAppID, dyAppID = "wx00000000000000b2", "tt0123456789abcdef"
	wx := wxauthtest.NewServer(appID, secret)
	t.Cleanup(wx.Close)
	wx2 := wxauthtest.NewServer(otherAppID, secret)
	t.Cleanup(wx2.Close)
	dy := douyinauthtest.NewServer(dyAppID, "douyin-secret")
	t.Cleanup(dy.Close)
	wxApp, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wx.URL))
	require.NoError(t, err)
	wxApp2, err := wxauth.New(otherAppID, secret, wxauth.WithBaseURL(wx2.URL))
	require.NoError(t, err)
	dyApp, err := douyinauth.New(dyAppID, "douyin-secret", douyinauth.WithBaseURL(dy.URL), douyinauth.WithPrivateKey(dy.PrivateKey()))
	require.NoError(t, err)
	apps, err := miniauth.NewApps(wxApp, wxApp2, dyApp)
	require.NoError(t, err)
	m := session.NewManager(nil)
	t.Cleanup(func() { _ = m.Close() })
	linker := account.NewLinker(account.NewMemoryStore())
	h := session.LoginHandler(apps, m, session.WithOnLogin(account.OnLogin(linker)))
	login := poster(t, h)
	user := wxauthtest.User{PurePhoneNumber: "13912345678", CountryCode: "86"}

	alice := wx.AddUser(user)
	pc, err := wx.PhoneCode(alice)
	require.NoError(t, err)
	code, resp := login(map[string]string{"appid": appID, "code": wx.Login(alice), "phoneCode": pc})
	require.Equal(t, http.StatusOK, code, resp)
	require.Equal(t, true, resp["created"])

	alice2 := wx2.AddUser(user)
	pc, err = wx2.PhoneCode(alice2)
	require.NoError(t, err)
	code, resp = login(map[string]string{"appid": otherAppID, "code": wx2.Login(alice2), "phoneCode": pc})
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, true, resp["registered"], "a WeChat phone code is tied to its openid: it joins")
	assert.Nil(t, resp["created"])

	someone := dy.AddUser(douyinauthtest.User{PurePhoneNumber: "13912345678", CountryCode: "86"})
	pc, err = dy.PhoneCode(someone)
	require.NoError(t, err)
	code, resp = login(map[string]string{"appid": dyAppID, "code": dy.Login(someone), "phoneCode": pc})
	assert.Equal(t, http.StatusConflict, code, resp)
	assert.Equal(t, account.CodePhoneTaken, resp["error"])
	uid, _, err := linker.Resolve(context.Background(), account.Identity{Platform: miniauth.Douyin, AppID: dyAppID, OpenID: someone})
	assert.ErrorIs(t, err, account.ErrNotRegistered, "the Douyin openid was bound to no one: %q", uid)
}
