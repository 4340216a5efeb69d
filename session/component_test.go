package session_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// componentRefresh keeps the authorizers' refresh tokens, as the app's
// database would.
type componentRefresh struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *componentRefresh) RefreshToken(_ context.Context, appID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[appID], nil
}

func (s *componentRefresh) SaveRefreshToken(_ context.Context, appID, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[appID] = tok
	return nil
}

// TestComponentLoginHandler: one login endpoint serves every mini-program
// that authorized a third-party platform, from a pushed ticket: the body's
// appid picks the app, a login without one is refused before any call
// upstream, and the phone handler uses the app of the session's record.
func TestComponentLoginHandler(t *testing.T) {
	t.Parallel()
	const (
		compAppID = "wx0c0e1f2a3b4c5d6e"
		secret    = "c0mp0nent-s3cret-for-the-session-test"
		token     = "pushToken42"
		app1      = "wxa1b2c3d4e5f60718"
		app2      = "wxb2c3d4e5f6071829"
	)
	ctx := context.Background()
	key := wxauthtest.NewEncodingAESKey()
	fake := wxauthtest.NewComponentServer(compAppID, secret, token, key)
	t.Cleanup(fake.Close)
	refresh := &componentRefresh{m: map[string]string{}}
	comp, err := wxauth.NewComponent(compAppID, secret, token, key,
		wxauth.WithBaseURL(fake.URL), wxauth.WithRefreshTokens(refresh))
	require.NoError(t, err)

	var phones []*miniauth.PhoneNumber
	var mu sync.Mutex
	hook := session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
		mu.Lock()
		defer mu.Unlock()
		if info.Phone != nil {
			phones = append(phones, info.Phone)
			info.Subject = "user-" + info.Phone.PurePhoneNumber
		}
		return nil, nil
	})
	m := session.NewManager(nil)
	mux := http.NewServeMux()
	mux.Handle("POST /wechat/component", comp.TicketHandler())
	mux.Handle("POST /login", session.LoginHandler(comp, m, hook))
	mux.Handle("POST /phone", session.PhoneHandler(comp, m, hook))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	post := func(path, bearer, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}

	require.NoError(t, fake.PushTicket(ctx, srv.URL+"/wechat/component"))
	mp1, rt1 := fake.Authorize(app1)
	mp2, rt2 := fake.Authorize(app2)
	require.NoError(t, refresh.SaveRefreshToken(ctx, app1, rt1))
	require.NoError(t, refresh.SaveRefreshToken(ctx, app2, rt2))

	// No appid: a component serves many apps.
	u1 := mp1.AddUser(wxauthtest.User{PurePhoneNumber: "13900000001"})
	code := mp1.Login(u1)
	status, body := post("/login", "", `{"code":"`+code+`"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "unknown_app", body["error"])
	assert.Zero(t, fake.Calls(wxauthtest.PathComponentCode2Session))

	// The first app's user, silently; then the phone handler on that session.
	status, body = post("/login", "", `{"appid":"`+app1+`","code":"`+code+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, u1, body["openid"])
	tok1 := body["token"].(string)
	rec, err := m.Validate(ctx, tok1)
	require.NoError(t, err)
	assert.Equal(t, app1, rec.AppID)
	assert.Equal(t, miniauth.WeChat, rec.Platform)

	phoneCode, err := mp1.PhoneCode(u1)
	require.NoError(t, err)
	status, body = post("/phone", tok1, `{"phoneCode":"`+phoneCode+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	rec, err = m.Validate(ctx, body["token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "user-13900000001", rec.Subject)
	assert.Equal(t, app1, rec.AppID)

	// The second app's user, with a phone code in the login ("appId" folds).
	u2 := mp2.AddUser(wxauthtest.User{PurePhoneNumber: "13900000002"})
	phoneCode, err = mp2.PhoneCode(u2)
	require.NoError(t, err)
	status, body = post("/login", "", `{"appId":"`+app2+`","code":"`+mp2.Login(u2)+`","phoneCode":"`+phoneCode+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	rec, err = m.Validate(ctx, body["token"].(string))
	require.NoError(t, err)
	assert.Equal(t, app2, rec.AppID)
	assert.Equal(t, "user-13900000002", rec.Subject)

	mu.Lock()
	require.Len(t, phones, 2)
	assert.Equal(t, app1, phones[0].Watermark.AppID)
	assert.Equal(t, app2, phones[1].Watermark.AppID)
	mu.Unlock()

	// An authorizer whose refresh token the app never stored logs in, but
	// its phone codes cannot be exchanged: the operator's to fix (500).
	const app3 = "wxc3d4e5f607182930"
	mp3, _ := fake.Authorize(app3)
	u3 := mp3.AddUser(wxauthtest.User{})
	status, body = post("/login", "", `{"appid":"`+app3+`","code":"`+mp3.Login(u3)+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	phoneCode, err = mp3.PhoneCode(u3)
	require.NoError(t, err)
	status, body = post("/phone", body["token"].(string), `{"phoneCode":"`+phoneCode+`"}`)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, "server_error", body["error"])

	// A code of one app sent as the other's fails at WeChat.
	status, _ = post("/login", "", `{"appid":"`+app2+`","code":"`+mp1.Login(u1)+`"}`)
	assert.Equal(t, http.StatusUnauthorized, status)

	// A mini-program that withdrew its authorization: WeChat's 61003 is
	// answered as an app this server does not serve.
	fake.Unauthorize(app2)
	status, body = post("/login", "", `{"appid":"`+app2+`","code":"`+mp2.Login(u2)+`"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "unknown_app", body["error"])
	assert.Equal(t, 1, fake.Calls(wxauthtest.PathComponentToken), "one component token for the whole test")
}
