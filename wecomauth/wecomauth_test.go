package wecomauth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/clienttest"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/wecomauth"
	"github.com/wxmp/miniauth/wecomauth/wecomauthtest"
	"github.com/wxmp/miniauth/wxauth"
)

const (
	testAppID  = "wx4f4bc4dec97d474b"
	testCorpID = "ww0123456789abcdef"
	testSecret = "corp-app-secret-0123456789abcdefghijklmnop"
)

func newPair(t *testing.T, opts ...wecomauth.Option) (*wecomauthtest.Server, *wecomauth.App) {
	t.Helper()
	srv := wecomauthtest.NewServer(testCorpID, testSecret)
	t.Cleanup(srv.Close)
	opts = append([]wecomauth.Option{wecomauth.WithBaseURL(srv.URL), wecomauth.WithBackoff(time.Millisecond, 2*time.Millisecond)}, opts...)
	app, err := wecomauth.New(testAppID, testCorpID, testSecret, opts...)
	require.NoError(t, err)
	return srv, app
}

// WeCom's client passes the conformance suite against its fake.
func TestConformance(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		fake := wecomauthtest.NewServer(testCorpID, testSecret)
		t.Cleanup(fake.Close)
		app, err := wecomauth.New(testAppID, testCorpID, testSecret, wecomauth.WithBaseURL(fake.URL))
		require.NoError(t, err)
		return clienttest.Env{
			Client: app,
			Code: func(t *testing.T) (string, string) {
				userID := fake.AddUser(wecomauthtest.User{})
				return fake.Login(userID), userID
			},
			Calls:   func() int { return fake.Calls(wecomauthtest.PathCode2Session) },
			Secrets: []string{testSecret},
		}
	})
}

func TestNewValidates(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		appID, corpID, secret string
		opts                  []wecomauth.Option
		want                  string
	}{
		{"empty appid", "", testCorpID, testSecret, nil, "appID"},
		{"empty corpid", testAppID, "", testSecret, nil, "corpID"},
		{"corpid with a space", testAppID, "ww 1", testSecret, nil, "corpID"},
		{"corpid with a colon", testAppID, "ww:1", testSecret, nil, "corpID"},
		{"long appid", strings.Repeat("w", 49), testCorpID, testSecret, nil, "appID"},
		{"empty secret", testAppID, testCorpID, "", nil, "corpSecret"},
		{"bad base URL", testAppID, testCorpID, testSecret, []wecomauth.Option{wecomauth.WithBaseURL("qyapi.weixin.qq.com")}, "base URL"},
		{"nil token store", testAppID, testCorpID, testSecret, []wecomauth.Option{wecomauth.WithTokenStore(nil)}, "token store"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app, err := wecomauth.New(tt.appID, tt.corpID, tt.secret, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, app)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "wecomauth: "))
		})
	}
}

func TestCode2Session(t *testing.T) {
	srv, app := newPair(t)
	code := srv.Login("zhangsan")
	sess, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err)
	key, err := srv.SessionKey("zhangsan")
	require.NoError(t, err)
	assert.Equal(t, &miniauth.Session{Platform: miniauth.WeCom, AppID: testAppID, OpenID: "zhangsan", SessionKey: key}, sess)
	assert.Equal(t, testCorpID, app.CorpID())

	_, err = app.Code2Session(context.Background(), code)
	assert.ErrorIs(t, err, miniauth.ErrInvalidCode)
	var ae *wecomauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 40029, ae.Code)
	assert.Equal(t, 1, srv.TokensIssued(), "one token serves every login")
}

func TestOtherCorp(t *testing.T) {
	srv, app := newPair(t)
	id := srv.AddUser(wecomauthtest.User{CorpID: "wwforeign000000000"})
	_, err := app.Code2Session(context.Background(), srv.Login(id))
	assert.ErrorIs(t, err, wecomauth.ErrOtherCorp)
	assert.Contains(t, err.Error(), "wwforeign000000000")
}

func TestRefusedTokenIsFetchedOnce(t *testing.T) {
	srv, app := newPair(t)
	_, err := app.Code2Session(context.Background(), srv.Login("a"))
	require.NoError(t, err)
	srv.RevokeToken() // WeCom may drop a token early: 40014
	sess, err := app.Code2Session(context.Background(), srv.Login("b"))
	require.NoError(t, err)
	assert.Equal(t, "b", sess.OpenID)
	assert.Equal(t, 2, srv.TokensIssued())
	assert.Equal(t, 3, srv.Calls(wecomauthtest.PathCode2Session))

	// A refusal when gettoken hands back the same token is returned, not
	// tried again with it.
	require.NoError(t, srv.FailNext(wecomauthtest.PathCode2Session, 42001))
	_, err = app.Code2Session(context.Background(), srv.Login("c"))
	assert.ErrorIs(t, err, miniauth.ErrInvalidCredential)
	assert.Equal(t, 4, srv.Calls(wecomauthtest.PathCode2Session))
	assert.Equal(t, 2, srv.TokensIssued())
}

func TestExpiredToken(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := wecomauthtest.NewServer(testCorpID, testSecret, wecomauthtest.WithClock(clock))
	defer srv.Close()
	app, err := wecomauth.New(testAppID, testCorpID, testSecret, wecomauth.WithBaseURL(srv.URL), wecomauth.WithClock(clock))
	require.NoError(t, err)
	_, err = app.Code2Session(context.Background(), srv.Login("a"))
	require.NoError(t, err)
	mu.Lock()
	now = now.Add(wecomauthtest.TokenTTL)
	mu.Unlock()
	_, err = app.Code2Session(context.Background(), srv.Login("a"))
	require.NoError(t, err)
	assert.Equal(t, 2, srv.TokensIssued())
}

func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		path    string
		errcode int
		want    error
	}{
		{"busy retried then fine", wecomauthtest.PathCode2Session, -1, nil},
		{"ip not trusted", wecomauthtest.PathCode2Session, 60020, miniauth.ErrNotAllowed},
		{"over the limit", wecomauthtest.PathCode2Session, 45009, miniauth.ErrQuotaExceeded},
		{"bad corpid", wecomauthtest.PathToken, 40013, miniauth.ErrInvalidCredential},
		{"bad secret", wecomauthtest.PathToken, 40001, miniauth.ErrInvalidCredential},
		{"token ip", wecomauthtest.PathToken, 60020, miniauth.ErrNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, app := newPair(t)
			require.NoError(t, srv.FailNext(tt.path, tt.errcode))
			_, err := app.Code2Session(context.Background(), srv.Login(""))
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			var ae *wecomauth.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.errcode, ae.Code)
		})
	}
	srv, app := newPair(t)
	require.NoError(t, srv.FailNextStatus(wecomauthtest.PathCode2Session, http.StatusNotFound))
	_, err := app.Code2Session(context.Background(), srv.Login(""))
	var se *wecomauth.StatusError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, miniauth.ErrBadResponse)
}

func TestSecretsStayOut(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, app := newPair(t, wecomauth.WithLogger(logger))
	_, err := app.Code2Session(context.Background(), srv.Login(""))
	require.NoError(t, err)
	tok := srv.AccessToken()
	code := srv.Login("")
	require.NoError(t, srv.FailNext(wecomauthtest.PathCode2Session, 40097, "bad access_token="+tok+" js_code="+code))
	_, err1 := app.Code2Session(context.Background(), code)
	require.Error(t, err1)
	srv.Close()
	_, err2 := app.Code2Session(context.Background(), code)
	require.Error(t, err2)
	for _, text := range []string{err1.Error(), err2.Error(), fmt.Sprintf("%+v %#v", err2, err2), logs.String(),
		fmt.Sprintf("%v %#v %+v %s", app, app, *app, app)} {
		assert.NotContains(t, text, testSecret)
		assert.NotContains(t, text, code)
		assert.NotContains(t, text, tok)
	}
}

func TestAccessTokenShared(t *testing.T) {
	srv := wecomauthtest.NewServer(testCorpID, testSecret)
	defer srv.Close()
	store := wxauth.NewMemoryTokenStore()
	var wg sync.WaitGroup
	for range 8 {
		app, err := wecomauth.New(testAppID, testCorpID, testSecret, wecomauth.WithBaseURL(srv.URL), wecomauth.WithTokenStore(store))
		require.NoError(t, err)
		wg.Go(func() {
			_, err := app.Code2Session(context.Background(), srv.Login(""))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.Calls(wecomauthtest.PathToken), "the fleet fetched once")
	// The token is stored apart from a WeChat token of the same appid.
	tok, err := store.Load(context.Background(), testAppID)
	require.NoError(t, err)
	assert.Nil(t, tok)
}

// TestWire checks the requests against WeCom's pages: GET
// /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET
// (https://developer.work.weixin.qq.com/document/path/91039) and GET
// /cgi-bin/miniprogram/jscode2session?access_token=ACCESS_TOKEN&js_code=CODE&grant_type=authorization_code
// (https://developer.work.weixin.qq.com/document/path/91507), at
// qyapi.weixin.qq.com.
func TestWire(t *testing.T) {
	mt := httpmock.NewMockTransport()
	var tokQ, c2sQ url.Values
	mt.RegisterResponder(http.MethodGet, "https://qyapi.weixin.qq.com/cgi-bin/gettoken", func(r *http.Request) (*http.Response, error) {
		tokQ = r.URL.Query()
		return httpmock.NewStringResponse(200, `{"errcode":0,"errmsg":"ok","access_token":"accesstoken000001","expires_in":7200}`), nil
	})
	mt.RegisterResponder(http.MethodGet, "https://qyapi.weixin.qq.com/cgi-bin/miniprogram/jscode2session", func(r *http.Request) (*http.Response, error) {
		c2sQ = r.URL.Query()
		return httpmock.NewStringResponse(200, `{"corpid":"`+testCorpID+`","userid":"USERID","session_key":"kJtdi6RF+Dv67QkbLlPGjw==","errcode":0,"errmsg":"ok"}`), nil
	})
	app, err := wecomauth.New(testAppID, testCorpID, testSecret, wecomauth.WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	sess, err := app.Code2Session(context.Background(), "CODE_0123456789")
	require.NoError(t, err)
	assert.Equal(t, url.Values{"corpid": {testCorpID}, "corpsecret": {testSecret}}, tokQ)
	assert.Equal(t, url.Values{"access_token": {"accesstoken000001"}, "js_code": {"CODE_0123456789"}, "grant_type": {"authorization_code"}}, c2sQ)
	assert.Equal(t, "USERID", sess.OpenID)
	assert.Equal(t, "kJtdi6RF+Dv67QkbLlPGjw==", sess.SessionKey)
}

func TestReplies(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string
		want error
	}{
		{"invalid code", `{"errcode":40029,"errmsg":"invalid code"}`, miniauth.ErrInvalidCode},
		{"no userid", `{"corpid":"` + testCorpID + `","session_key":"kJtdi6RF+Dv67QkbLlPGjw==","errcode":0}`, miniauth.ErrBadResponse},
		{"bad session_key", `{"corpid":"` + testCorpID + `","userid":"u","session_key":"x","errcode":0}`, miniauth.ErrBadResponse},
		{"no corpid", `{"userid":"u","session_key":"kJtdi6RF+Dv67QkbLlPGjw==","errcode":0}`, wecomauth.ErrOtherCorp},
		{"not JSON", `<html>`, miniauth.ErrBadResponse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mt := httpmock.NewMockTransport()
			mt.RegisterResponder(http.MethodGet, "https://qyapi.weixin.qq.com/cgi-bin/gettoken",
				httpmock.NewStringResponder(200, `{"errcode":0,"errmsg":"ok","access_token":"accesstoken000001","expires_in":7200}`))
			mt.RegisterResponder(http.MethodGet, "https://qyapi.weixin.qq.com/cgi-bin/miniprogram/jscode2session", httpmock.NewStringResponder(200, tt.body))
			app, err := wecomauth.New(testAppID, testCorpID, testSecret, wecomauth.WithHTTPClient(&http.Client{Transport: mt}))
			require.NoError(t, err)
			_, err = app.Code2Session(context.Background(), "CODE_0123456789")
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// FuzzCode2SessionReply feeds jscode2session any reply body: the client
// never panics, and a session it returns has what a session must have.
func FuzzCode2SessionReply(f *testing.F) {
	for _, s := range []string{
		`{"corpid":"` + testCorpID + `","userid":"USERID","session_key":"kJtdi6RF+Dv67QkbLlPGjw==","errcode":0,"errmsg":"ok"}`,
		`{"errcode":40029,"errmsg":"invalid code"}`, `{"errcode":"42001"}`, `{"userid":1}`, `null`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		mt := httpmock.NewMockTransport()
		mt.RegisterResponder(http.MethodGet, "https://qyapi.weixin.qq.com/cgi-bin/gettoken",
			httpmock.NewStringResponder(200, `{"errcode":0,"errmsg":"ok","access_token":"accesstoken000001","expires_in":7200}`))
		mt.RegisterResponder(http.MethodGet, "https://qyapi.weixin.qq.com/cgi-bin/miniprogram/jscode2session", httpmock.NewStringResponder(200, body))
		app, err := wecomauth.New(testAppID, testCorpID, testSecret, wecomauth.WithHTTPClient(&http.Client{Transport: mt}), wecomauth.WithRetry(0))
		if err != nil {
			t.Fatal(err)
		}
		sess, err := app.Code2Session(context.Background(), "CODE_0123456789")
		if err != nil {
			var ae *wecomauth.APIError
			if !errors.As(err, &ae) && !errors.Is(err, miniauth.ErrBadResponse) && !errors.Is(err, wecomauth.ErrOtherCorp) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if sess.OpenID == "" || sess.Platform != miniauth.WeCom || crypto.CheckSessionKey(sess.SessionKey) != nil {
			t.Fatalf("unusable session %v", sess)
		}
	})
}
