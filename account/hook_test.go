package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const appID, secret = "wx0123456789abcdef", "app-secret"

type env struct {
	srv    *wxauthtest.Server
	app    *wxauth.App
	m      *session.Manager
	linker *account.Linker
}

func newEnv(t *testing.T, store account.Store) *env {
	t.Helper()
	srv := wxauthtest.NewServer(appID, secret)
	t.Cleanup(srv.Close)
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	m := session.NewManager(nil)
	t.Cleanup(func() { _ = m.Close() })
	return &env{srv: srv, app: app, m: m, linker: account.NewLinker(store)}
}

// login posts a wx.login code of openID to h, with a phone of the user's
// when phone is set (the hook wrapper below plays the flow's phoneCode part).
func (e *env) login(t *testing.T, h http.Handler, openID string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"code": e.srv.Login(openID)})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(string(body))))
	var resp map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp), w.Body.String())
	return w.Code, resp
}

// withPhone wraps hook so that each login carries the user's phone, as a
// login with a phoneCode (or PhoneHandler) does.
func (e *env) withPhone(hook session.OnLoginFunc) session.OnLoginFunc {
	return func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		code, err := e.srv.PhoneCode(info.Session.OpenID)
		if err != nil {
			return nil, err
		}
		if info.Phone, err = e.app.GetPhoneNumber(ctx, code, wxauth.ForOpenID(info.Session.OpenID)); err != nil {
			return nil, err
		}
		return hook(ctx, info)
	}
}

func (e *env) subject(t *testing.T, token any) string {
	t.Helper()
	rec, err := e.m.Validate(context.Background(), token.(string))
	require.NoError(t, err)
	return rec.Subject
}

func TestOnLoginFlow(t *testing.T) {
	e := newEnv(t, account.NewMemoryStore())
	hook := account.OnLogin(e.linker)
	plain := session.LoginHandler(e.app, e.m, session.WithOnLogin(hook))
	phoned := session.LoginHandler(e.app, e.m, session.WithOnLogin(e.withPhone(hook)))
	alice := e.srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678", UnionID: "ocMvos6NjeKLIBqg5Mr9QjxrP9yc"})

	// A phone-less login of an unknown user: a token without a subject.
	code, resp := e.login(t, plain, alice)
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, false, resp["registered"])
	assert.Empty(t, e.subject(t, resp["token"]))

	// With the phone: a user is created and the token carries it.
	code, resp = e.login(t, phoned, alice)
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, true, resp["registered"])
	assert.Equal(t, true, resp["created"])
	uid := e.subject(t, resp["token"])
	require.NotEmpty(t, uid)
	links, err := e.linker.Links(context.Background(), uid)
	require.NoError(t, err)
	assert.Equal(t, "+8613912345678", links.Phone)
	assert.Equal(t, []account.UnionID{{Platform: miniauth.WeChat, UnionID: "ocMvos6NjeKLIBqg5Mr9QjxrP9yc"}}, links.UnionIDs)

	// Later logins need no phone.
	code, resp = e.login(t, plain, alice)
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, true, resp["registered"])
	assert.Nil(t, resp["created"])
	assert.Equal(t, uid, e.subject(t, resp["token"]))

	// Another openid of this app with Alice's phone is refused 409.
	mallory := e.srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678"})
	code, resp = e.login(t, phoned, mallory)
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, account.CodePhoneTaken, resp["error"])
	assert.NotContains(t, resp["message"], "13912345678")
	assert.Nil(t, resp["token"])
}

// PhoneHandler calls the hook with Subject already set; the hook answers
// with the resolved user.
func TestOnLoginPresetSubject(t *testing.T) {
	e := newEnv(t, account.NewMemoryStore())
	hook := account.OnLogin(e.linker)
	ctx := context.Background()
	s := &wxauth.Session{AppID: appID, OpenID: "o-1"}
	uid, _, err := e.linker.Resolve(ctx, account.Identity{AppID: appID, OpenID: "o-1", Phone: "+8613912345678"})
	require.NoError(t, err)
	require.NoError(t, e.linker.Unbind(ctx, uid, account.Identity{Phone: "+8613912345678"}))

	info := &session.LoginInfo{Session: s, Subject: uid,
		Phone: &wxauth.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}}
	fields, err := hook(ctx, info)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"registered": true}, fields)
	assert.Equal(t, uid, info.Subject)
	links, err := e.linker.Links(ctx, uid)
	require.NoError(t, err)
	assert.Equal(t, "+8613800138000", links.Phone, "the phone is bound to the session's user")
}

// brokenStore fails every transaction.
type brokenStore struct{}

func (brokenStore) Update(context.Context, func(context.Context, account.Tx) error) error {
	return errors.New("connection refused")
}

func TestOnLoginErrors(t *testing.T) {
	ctx := context.Background()
	hook := account.OnLogin(account.NewLinker(brokenStore{}))
	_, err := hook(ctx, &session.LoginInfo{Session: &wxauth.Session{AppID: appID, OpenID: "o-1"}})
	var ue *session.UnavailableError
	require.ErrorAs(t, err, &ue, "a store failure is an outage the Manager guards")
	assert.Equal(t, account.StoreDependency, ue.Dependency)
	require.NotNil(t, ue.Ready)
	require.NoError(t, ue.Ready(ctx), "a store without a probe is always ready")
	require.ErrorIs(t, err, session.ErrDependencyUnavailable)
	var he *session.HTTPError

	hook = account.OnLogin(account.NewLinker(account.NewMemoryStore()))
	_, err = hook(ctx, &session.LoginInfo{Session: &wxauth.Session{OpenID: "o-1"}}) // no AppID
	require.ErrorIs(t, err, account.ErrInvalidIdentity)
	assert.False(t, errors.As(err, &he), "a misconfiguration is a 500")
	_, err = hook(ctx, &session.LoginInfo{})
	require.Error(t, err)
	_, err = hook(ctx, &session.LoginInfo{Session: &wxauth.Session{AppID: appID, OpenID: "o-1"},
		Phone: &wxauth.PhoneNumber{PurePhoneNumber: "12", CountryCode: "86"}})
	require.ErrorIs(t, err, account.ErrInvalidPhone)

	assert.Panics(t, func() { account.OnLogin(nil) })
	assert.Panics(t, func() { account.NewLinker(nil) })
	assert.Panics(t, func() { account.WithNewUser(nil) })
	assert.Panics(t, func() { account.NewLinker(account.NewMemoryStore(), nil) })
}

// The hook takes the platform from the session: a Douyin login and a WeChat
// login with the same phone are one user (once the application lets
// Douyin's unbound phone join), and their unionids stay apart.
func TestOnLoginPlatform(t *testing.T) {
	ctx := context.Background()
	store := account.NewMemoryStore()
	hook := account.OnLogin(account.NewLinker(store))
	// WeChat's phone code, exchanged with the openid: tied to it.
	phone := &miniauth.PhoneNumber{PhoneNumber: "13912345678", PurePhoneNumber: "13912345678", CountryCode: "86", OpenID: "o-1"}

	wx := &session.LoginInfo{Session: &miniauth.Session{AppID: appID, OpenID: "o-1", UnionID: "u-1"}, Phone: phone}
	fields, err := hook(ctx, wx)
	require.NoError(t, err)
	assert.Equal(t, true, fields["created"])
	// Douyin's phone code: tied to no openid. It joins no one by default.
	dyPhone := *phone
	dyPhone.OpenID = ""
	dy := &session.LoginInfo{Session: &miniauth.Session{Platform: miniauth.Douyin, AppID: "tt0123456789abcdef", OpenID: "o-1", UnionID: "u-1"}, Phone: &dyPhone}
	_, err = hook(ctx, dy)
	var he *session.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusConflict, he.Status)
	assert.ErrorIs(t, err, account.ErrPhoneUnbound)
	assert.Empty(t, dy.Subject)
	// A phone tied to another openid than the session's is no better.
	other := *phone
	other.OpenID = "o-someone-else"
	_, err = hook(ctx, &session.LoginInfo{Session: &miniauth.Session{Platform: miniauth.Douyin, AppID: "tt0123456789abcdef", OpenID: "o-1"}, Phone: &other})
	assert.ErrorIs(t, err, account.ErrPhoneUnbound)

	linker := account.NewLinker(store, account.WithUnboundPhoneJoin())
	hook = account.OnLogin(linker)
	fields, err = hook(ctx, dy)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"registered": true}, fields)
	assert.Equal(t, wx.Subject, dy.Subject, "one phone, one user")

	links, err := linker.Links(ctx, wx.Subject)
	require.NoError(t, err)
	assert.Equal(t, []account.OpenID{
		{Platform: miniauth.Douyin, AppID: "tt0123456789abcdef", OpenID: "o-1"},
		{Platform: miniauth.WeChat, AppID: appID, OpenID: "o-1"},
	}, links.OpenIDs)
	assert.Equal(t, []account.UnionID{{Platform: miniauth.Douyin, UnionID: "u-1"}, {Platform: miniauth.WeChat, UnionID: "u-1"}}, links.UnionIDs)

	// A QQ session with the same unionid and no phone is no one.
	qq := &session.LoginInfo{Session: &miniauth.Session{Platform: miniauth.QQ, AppID: "1112345678", OpenID: "o-2", UnionID: "u-1"}}
	fields, err = hook(ctx, qq)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"registered": false}, fields)
	assert.Empty(t, qq.Subject)

	// A session of a platform the module does not know is a 500.
	_, err = hook(ctx, &session.LoginInfo{Session: &miniauth.Session{Platform: "myspace", AppID: appID, OpenID: "o-3"}})
	require.ErrorIs(t, err, account.ErrInvalidIdentity)
}

// Every platform's session, with one phone, resolves to one user; each
// platform's unionid is its own link.
func TestOnLoginEveryPlatform(t *testing.T) {
	ctx := context.Background()
	linker := account.NewLinker(account.NewMemoryStore())
	hook := account.OnLogin(linker)
	// Each platform's phone tied to the openid, as its bound form gives it.
	phone := &miniauth.PhoneNumber{PhoneNumber: "13912345678", PurePhoneNumber: "13912345678", CountryCode: "86", OpenID: "o-1"}
	var uid string
	for i, p := range miniauth.Platforms() {
		info := &session.LoginInfo{Session: &miniauth.Session{Platform: p, AppID: "app-1", OpenID: "o-1", UnionID: "u-1"}, Phone: phone}
		fields, err := hook(ctx, info)
		require.NoError(t, err, p)
		assert.Equal(t, i == 0, fields["created"] == true, p)
		if i == 0 {
			uid = info.Subject
		}
		assert.Equal(t, uid, info.Subject, p)
	}
	links, err := linker.Links(ctx, uid)
	require.NoError(t, err)
	assert.Len(t, links.OpenIDs, len(miniauth.Platforms()), "one app of each platform, the same appid and openid strings")
	assert.Len(t, links.UnionIDs, len(miniauth.Platforms()))
}
