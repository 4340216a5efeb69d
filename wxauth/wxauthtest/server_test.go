package wxauthtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "0123456789abcdef0123456789abcdef"
)

// start is when every test clock starts.
var start = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// newServer starts a fake for the test app, on a test clock, closed when the
// test ends.
func newServer(t *testing.T, opts ...wxauthtest.Option) (*wxauthtest.Server, *wxauthtest.Clock) {
	t.Helper()
	clk := wxauthtest.NewClock(start)
	srv := wxauthtest.NewServer(testAppID, testSecret, append([]wxauthtest.Option{wxauthtest.WithClock(clk.Now)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv, clk
}

// newApp returns a wxauth client of the fake, with short retry backoffs.
func newApp(t *testing.T, srv *wxauthtest.Server, opts ...wxauth.Option) *wxauth.App {
	t.Helper()
	app, err := wxauth.New(srv.AppID(), testSecret, append([]wxauth.Option{
		wxauth.WithBaseURL(srv.URL), wxauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	return app
}

// reply holds every field the fake may send. It is decoded with unknown
// fields disallowed, so a field name that is not WeChat's fails the test.
type reply struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	OpenID      string `json:"openid"`
	SessionKey  string `json:"session_key"`
	UnionID     string `json:"unionid"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	PhoneInfo   *struct {
		PhoneNumber     string           `json:"phoneNumber"`
		PurePhoneNumber string           `json:"purePhoneNumber"`
		CountryCode     string           `json:"countryCode"`
		Watermark       crypto.Watermark `json:"watermark"`
	} `json:"phone_info"`
}

// do sends a request to the fake and decodes its JSON reply, checking that it
// comes as WeChat's do: HTTP 200, text/plain, and a request id on errors.
func do(t *testing.T, srv *wxauthtest.Server, method, path string, q url.Values, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path+"?"+q.Encode(), strings.NewReader(body))
	require.NoError(t, err)
	resp, err := testClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	var r reply
	require.NoError(t, dec.Decode(&r))
	if r.ErrCode != 0 {
		assert.Regexp(t, `,? rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`, r.ErrMsg)
	}
	return r
}

func get(t *testing.T, srv *wxauthtest.Server, path string, q url.Values) reply {
	t.Helper()
	return do(t, srv, http.MethodGet, path, q, "")
}

func post(t *testing.T, srv *wxauthtest.Server, path string, q url.Values, body any) reply {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return do(t, srv, http.MethodPost, path, q, string(b))
}

// code2SessionQuery is a jscode2session query for the test app.
func code2SessionQuery(code string) url.Values {
	return url.Values{"appid": {testAppID}, "secret": {testSecret}, "js_code": {code}, "grant_type": {"authorization_code"}}
}

// tokenQuery is a /cgi-bin/token query for the test app.
func tokenQuery() url.Values {
	return url.Values{"appid": {testAppID}, "secret": {testSecret}, "grant_type": {"client_credential"}}
}

// sessionQuery is a checksession or resetusersessionkey query signed with key.
func sessionQuery(token, openID, key string) url.Values {
	return url.Values{"access_token": {token}, "openid": {openID},
		"signature": {crypto.SessionKeySignature(key)}, "sig_method": {"hmac_sha256"}}
}

func TestNewServerRejectsBadArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		appID, secret string
		opt           wxauthtest.Option
		want          string
	}{
		{"empty appid", "", testSecret, nil, "appID must not be empty"},
		{"empty secret", testAppID, "", nil, "secret must not be empty"},
		{"nil clock", testAppID, testSecret, wxauthtest.WithClock(nil), "clock must not be nil"},
		{"negative latency", testAppID, testSecret, wxauthtest.WithLatency(-time.Second), "latency must not be negative"},
		{"zero rate limit", testAppID, testSecret, wxauthtest.WithRateLimit(0), "rate limit must be positive"},
		{"zero session key TTL", testAppID, testSecret, wxauthtest.WithSessionKeyTTL(0), "session key TTL must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := wxauthtest.Start(tt.appID, tt.secret, tt.opt)
			require.Error(t, err)
			assert.Nil(t, srv)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "wxauthtest: "), err.Error())
			assert.PanicsWithError(t, err.Error(), func() { wxauthtest.NewServer(tt.appID, tt.secret, tt.opt) },
				"NewServer panics as httptest.NewServer does")
		})
	}
}

func TestLoginAndCode2Session(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	app := newApp(t, srv)
	id := srv.AddUser(wxauthtest.User{OpenID: "o-alice", UnionID: "o-union-alice"})

	code := srv.Login(id)
	assert.Regexp(t, `^[0-9A-Za-z]{32}$`, code)
	sess, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err)
	key, err := srv.SessionKey(id)
	require.NoError(t, err)
	assert.Equal(t, "o-alice", sess.OpenID)
	assert.Equal(t, "o-union-alice", sess.UnionID)
	assert.Equal(t, key, sess.SessionKey)
	require.NoError(t, crypto.CheckSessionKey(sess.SessionKey))

	// A user logged in without an openid gets a WeChat-like one, and no unionid.
	sess, err = app.Code2Session(context.Background(), srv.Login(""))
	require.NoError(t, err)
	assert.Regexp(t, `^o[0-9A-Za-z_-]{27}$`, sess.OpenID)
	assert.Empty(t, sess.UnionID)
	u, ok := srv.User(sess.OpenID)
	require.True(t, ok)
	assert.Equal(t, wxauthtest.DefaultNickName, u.NickName)
	assert.Equal(t, "13800138001", u.PhoneNumber, "the second user without a number gets the next one")
	alice, _ := srv.User(id)
	assert.Equal(t, wxauthtest.DefaultPhoneNumber, alice.PhoneNumber, "the first gets DefaultPhoneNumber")
	assert.Equal(t, wxauthtest.DefaultAvatarURL, u.AvatarURL, "WeChat's grey avatar")
	assert.Zero(t, u.Gender)
	assert.Empty(t, u.City+u.Province+u.Country, "WeChat sends no region")

	// The success reply has WeChat's fields and no errcode.
	r := get(t, srv, wxauthtest.PathCode2Session, code2SessionQuery(srv.Login(id)))
	assert.Equal(t, reply{OpenID: "o-alice", UnionID: "o-union-alice", SessionKey: r.SessionKey}, r)
}

func TestCode2SessionRefusals(t *testing.T) {
	t.Parallel()
	loginO1 := func(_ *testing.T, srv *wxauthtest.Server, _ *wxauthtest.Clock, _ *wxauth.App) string {
		return srv.Login("o1")
	}
	tests := []struct {
		name    string
		code    func(t *testing.T, srv *wxauthtest.Server, clk *wxauthtest.Clock, app *wxauth.App) string
		appID   string // default testAppID
		secret  string // default testSecret
		errcode int
		is      error
	}{
		{
			name: "unknown code",
			code: func(*testing.T, *wxauthtest.Server, *wxauthtest.Clock, *wxauth.App) string {
				return "0a1b2c3d4e5f0a1b2c3d4e5f0a1b2c3d"
			},
			errcode: 40029, is: wxauth.ErrInvalidCode,
		},
		{
			name: "used code",
			code: func(t *testing.T, srv *wxauthtest.Server, _ *wxauthtest.Clock, app *wxauth.App) string {
				code := srv.Login("o1")
				_, err := app.Code2Session(context.Background(), code)
				require.NoError(t, err)
				return code
			},
			errcode: 40163, is: wxauth.ErrCodeUsed,
		},
		{
			name: "expired code",
			code: func(_ *testing.T, srv *wxauthtest.Server, clk *wxauthtest.Clock, _ *wxauth.App) string {
				code := srv.Login("o1")
				clk.Advance(wxauthtest.CodeTTL)
				return code
			},
			errcode: 40029, is: wxauth.ErrInvalidCode,
		},
		{
			name: "expired and swept code",
			code: func(_ *testing.T, srv *wxauthtest.Server, clk *wxauthtest.Clock, _ *wxauth.App) string {
				code := srv.Login("o1")
				clk.Advance(time.Hour)
				srv.Login("o2") // sweeps expired codes
				return code
			},
			errcode: 40029, is: wxauth.ErrInvalidCode,
		},
		{
			name: "blocked user",
			code: func(_ *testing.T, srv *wxauthtest.Server, _ *wxauthtest.Clock, _ *wxauth.App) string {
				return srv.Login(srv.AddUser(wxauthtest.User{Blocked: true}))
			},
			errcode: 40226, is: wxauth.ErrHighRisk,
		},
		{
			name:    "wrong appid",
			code:    loginO1,
			appID:   "wx9999999999999999",
			errcode: 40013, is: wxauth.ErrInvalidCredential,
		},
		{
			name:    "wrong secret",
			code:    loginO1,
			secret:  "ffffffffffffffffffffffffffffffff",
			errcode: 40125, is: wxauth.ErrInvalidCredential,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, clk := newServer(t)
			code := tt.code(t, srv, clk, newApp(t, srv))
			appID, secret := testAppID, testSecret
			if tt.appID != "" {
				appID = tt.appID
			}
			if tt.secret != "" {
				secret = tt.secret
			}
			app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(srv.URL))
			require.NoError(t, err)
			_, err = app.Code2Session(context.Background(), code)
			require.ErrorIs(t, err, tt.is)
			var apiErr *wxauth.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.errcode, apiErr.Code)
			assert.NotEmpty(t, apiErr.RID)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestCodeValidUntilItsTTL(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	code := srv.Login("o1")
	clk.Advance(wxauthtest.CodeTTL - time.Second)
	_, err := newApp(t, srv).Code2Session(context.Background(), code)
	require.NoError(t, err)
}

func TestRefusedCallDoesNotUseTheCode(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	app := newApp(t, srv)
	id := srv.AddUser(wxauthtest.User{OpenID: "o-risky", Blocked: true})
	code := srv.Login(id)
	_, err := app.Code2Session(context.Background(), code)
	require.ErrorIs(t, err, wxauth.ErrHighRisk)

	srv.AddUser(wxauthtest.User{OpenID: id}) // unblocked
	sess, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err)
	assert.Equal(t, id, sess.OpenID)
}

func TestCode2SessionParameters(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	code := srv.Login("o1")
	without := func(key string) url.Values {
		q := code2SessionQuery(code)
		q.Del(key)
		return q
	}
	tests := []struct {
		name    string
		method  string
		q       url.Values
		errcode int
	}{
		{"missing appid", http.MethodGet, without("appid"), 41002},
		{"missing secret", http.MethodGet, without("secret"), 41004},
		{"missing js_code", http.MethodGet, without("js_code"), 41008},
		{"missing grant_type", http.MethodGet, without("grant_type"), 40002},
		{"POST", http.MethodPost, code2SessionQuery(code), 43001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, srv, tt.method, wxauthtest.PathCode2Session, tt.q, "")
			assert.Equal(t, tt.errcode, r.ErrCode, r.ErrMsg)
		})
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	app := newApp(t, srv)
	ctx := context.Background()
	for i := range wxauthtest.DefaultRateLimit {
		_, err := app.Code2Session(ctx, srv.Login("o-busy"))
		require.NoError(t, err, "call %d", i+1)
	}
	code := srv.Login("o-busy")
	_, err := app.Code2Session(ctx, code)
	require.ErrorIs(t, err, wxauth.ErrRateLimited)

	// Another user is not limited by o-busy's calls.
	_, err = app.Code2Session(ctx, srv.Login("o-calm"))
	require.NoError(t, err)

	// A minute later the window has slid past the first calls, and the
	// refused code was not used up.
	clk.Advance(time.Minute)
	sess, err := app.Code2Session(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, "o-busy", sess.OpenID)
}

func TestRateLimitOption(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t, wxauthtest.WithRateLimit(2))
	app := newApp(t, srv)
	ctx := context.Background()
	for range 2 {
		_, err := app.Code2Session(ctx, srv.Login("o1"))
		require.NoError(t, err)
	}
	clk.Advance(30 * time.Second)
	_, err := app.Code2Session(ctx, srv.Login("o1"))
	require.ErrorIs(t, err, wxauth.ErrRateLimited)
	clk.Advance(30 * time.Second) // the first two calls are now a minute old
	_, err = app.Code2Session(ctx, srv.Login("o1"))
	require.NoError(t, err)
}

func TestLoginRotatesSessionKey(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	app := newApp(t, srv)
	ctx := context.Background()
	id := srv.AddUser(wxauthtest.User{NickName: "Alice"})

	old, err := app.Code2Session(ctx, srv.Login(id))
	require.NoError(t, err)
	stale, err := srv.Profile(id)
	require.NoError(t, err)

	cur, err := app.Code2Session(ctx, srv.Login(id))
	require.NoError(t, err)
	require.NotEqual(t, old.SessionKey, cur.SessionKey)

	// The profile made before the second login neither verifies nor decrypts
	// with the new key; with the key of its time it still does.
	var user wxauth.UserInfo
	require.ErrorIs(t, app.Decrypt(cur.SessionKey, stale.EncryptedData, stale.IV, &user), crypto.ErrDecrypt)
	require.ErrorIs(t, app.VerifySignature(cur.SessionKey, stale.RawData, stale.Signature), crypto.ErrSignature)
	require.NoError(t, app.Decrypt(old.SessionKey, stale.EncryptedData, stale.IV, &user))
	assert.Equal(t, "Alice", user.NickName)

	// checksession knows only the current key.
	tok := srv.AccessToken()
	assert.Equal(t, 87009, get(t, srv, wxauthtest.PathCheckSession, sessionQuery(tok, id, old.SessionKey)).ErrCode)
	assert.Equal(t, 0, get(t, srv, wxauthtest.PathCheckSession, sessionQuery(tok, id, cur.SessionKey)).ErrCode)
}

func TestProfile(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	app := newApp(t, srv)
	id := srv.AddUser(wxauthtest.User{
		OpenID: "o-bob", UnionID: "o-union-bob", NickName: "Bob <&>", Gender: 1,
		City: "Guangzhou", Province: "Guangdong", Country: "CN", Language: "en",
		AvatarURL: "https://example.com/a.png?x=1&y=2",
	})
	sess, err := app.Code2Session(context.Background(), srv.Login(id))
	require.NoError(t, err)
	p, err := srv.Profile(id)
	require.NoError(t, err)

	require.NoError(t, app.VerifySignature(sess.SessionKey, p.RawData, p.Signature))
	assert.JSONEq(t, `{"nickName":"Bob <&>","gender":1,"language":"en","city":"Guangzhou",
		"province":"Guangdong","country":"CN","avatarUrl":"https://example.com/a.png?x=1&y=2"}`, p.RawData)
	assert.Contains(t, p.RawData, "?x=1&y=2", "WeChat does not escape & in rawData")

	want := wxauth.UserInfo{
		NickName: "Bob <&>", Gender: 1,
		Language: "en", City: "Guangzhou", Province: "Guangdong", Country: "CN",
		AvatarURL: "https://example.com/a.png?x=1&y=2",
		Watermark: crypto.Watermark{AppID: testAppID, Timestamp: clk.Now().Unix()},
	}
	// getUserProfile's encryptedData has no openId and no unionId.
	var user wxauth.UserInfo
	require.NoError(t, app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &user))
	assert.Equal(t, want, user)
	plain, err := crypto.Decrypt(sess.SessionKey, p.EncryptedData, p.IV)
	require.NoError(t, err)
	assert.NotContains(t, string(plain), "openId")
	assert.NotContains(t, string(plain), "unionId")

	// getUserInfo's has both.
	ui, err := srv.UserInfo(id)
	require.NoError(t, err)
	require.NoError(t, app.VerifySignature(sess.SessionKey, ui.RawData, ui.Signature))
	assert.Equal(t, p.RawData, ui.RawData)
	user = wxauth.UserInfo{}
	require.NoError(t, app.Decrypt(sess.SessionKey, ui.EncryptedData, ui.IV, &user))
	want.OpenID, want.UnionID = "o-bob", "o-union-bob"
	assert.Equal(t, want, user)

	// The JSON of a Profile is the mini-program's login body.
	b, err := json.Marshal(p)
	require.NoError(t, err)
	var body map[string]string
	require.NoError(t, json.Unmarshal(b, &body))
	assert.ElementsMatch(t, []string{"rawData", "signature", "encryptedData", "iv"}, keys(body))
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestUserMethodsNeedAUser(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	registered := srv.AddUser(wxauthtest.User{})

	_, err := srv.Profile("o-nobody")
	require.ErrorIs(t, err, wxauthtest.ErrUnknownUser)
	_, err = srv.SessionKey("o-nobody")
	require.ErrorIs(t, err, wxauthtest.ErrUnknownUser)
	_, err = srv.PhoneCode("o-nobody")
	require.ErrorIs(t, err, wxauthtest.ErrUnknownUser)
	_, ok := srv.User("o-nobody")
	assert.False(t, ok)

	_, err = srv.Profile(registered)
	require.ErrorIs(t, err, wxauthtest.ErrNotLoggedIn)
	_, err = srv.SessionKey(registered)
	require.ErrorIs(t, err, wxauthtest.ErrNotLoggedIn)
	_, err = srv.PhoneCode(registered) // needs no login
	require.NoError(t, err)
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("system error is retried", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t)
		require.NoError(t, srv.FailNext(wxauthtest.PathCode2Session, -1))
		sess, err := newApp(t, srv).Code2Session(ctx, srv.Login("o1"))
		require.NoError(t, err)
		assert.Equal(t, "o1", sess.OpenID)
		assert.Equal(t, 2, srv.Calls(wxauthtest.PathCode2Session))
	})
	t.Run("failures queue up", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t)
		require.NoError(t, srv.FailNext(wxauthtest.PathCode2Session, -1))
		require.NoError(t, srv.FailNextStatus(wxauthtest.PathCode2Session, http.StatusBadGateway))
		require.NoError(t, srv.FailNext(wxauthtest.PathCode2Session, -1))
		_, err := newApp(t, srv, wxauth.WithRetry(2)).Code2Session(ctx, srv.Login("o1"))
		require.ErrorIs(t, err, wxauth.ErrSystemBusy)
		assert.Equal(t, 3, srv.Calls(wxauthtest.PathCode2Session))
	})
	t.Run("injected errcode leaves the code unused", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t)
		app := newApp(t, srv)
		code := srv.Login("o1")
		require.NoError(t, srv.FailNext(wxauthtest.PathCode2Session, 40029))
		_, err := app.Code2Session(ctx, code)
		require.ErrorIs(t, err, wxauth.ErrInvalidCode)
		_, err = app.Code2Session(ctx, code)
		require.NoError(t, err)
	})
	t.Run("HTTP status", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t)
		require.NoError(t, srv.FailNextStatus(wxauthtest.PathCode2Session, http.StatusServiceUnavailable))
		_, err := newApp(t, srv, wxauth.WithRetry(0)).Code2Session(ctx, srv.Login("o1"))
		var se *wxauth.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
	})
	t.Run("other endpoints are not affected", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t)
		require.NoError(t, srv.FailNext(wxauthtest.PathToken, 45011))
		_, err := newApp(t, srv).Code2Session(ctx, srv.Login("o1"))
		require.NoError(t, err)
		assert.Equal(t, 45011, get(t, srv, wxauthtest.PathToken, tokenQuery()).ErrCode)
		assert.Equal(t, 0, get(t, srv, wxauthtest.PathToken, tokenQuery()).ErrCode)
	})
	t.Run("unknown errcode", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t)
		require.NoError(t, srv.FailNext(wxauthtest.PathCheckSession, 12345))
		r := get(t, srv, wxauthtest.PathCheckSession, nil)
		assert.Equal(t, 12345, r.ErrCode)
	})
}

func TestFailNextRejectsBadArguments(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	require.Error(t, srv.FailNext("/sns/jscode2sesion", -1))
	require.Error(t, srv.FailNext(wxauthtest.PathCode2Session, 0))
	require.Error(t, srv.FailNextStatus("/nope", 502))
	require.Error(t, srv.FailNextStatus(wxauthtest.PathCode2Session, http.StatusOK))
	require.Error(t, srv.FailNextStatus(wxauthtest.PathCode2Session, 600))
	_, err := newApp(t, srv).Code2Session(context.Background(), srv.Login("o1"))
	require.NoError(t, err, "nothing was queued")
}

func TestLatency(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, wxauthtest.WithLatency(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := newApp(t, srv).Code2Session(ctx, srv.Login("o1"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, srv.Calls(wxauthtest.PathCode2Session))
	// t.Cleanup's Close does not wait out the minute: the client has gone,
	// and closing ends every wait.
}

func TestCloseEndsLatencyWaits(t *testing.T) {
	t.Parallel()
	srv := wxauthtest.NewServer(testAppID, testSecret, wxauthtest.WithLatency(time.Hour))
	done := make(chan error, 1)
	go func() {
		resp, err := testClient().Get(srv.URL + wxauthtest.PathToken)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	for srv.Calls(wxauthtest.PathToken) == 0 { // until the request is in its wait
		select {
		case err := <-done:
			t.Fatalf("request ended before Close: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	srv.Close() // would block for an hour if the wait did not end
	srv.Close() // a second Close is harmless
	<-done
}

func TestUnknownPath(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	for _, path := range []string{"/", "/sns/jscode2session/extra", "/cgi-bin/tokens", "/wxa/checksession/"} {
		resp, err := testClient().Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		assert.Equal(t, 0, srv.Calls(path), path)
	}
}

// tokenChecker returns a function that reports the errcode checksession
// sends for an access_token (with a valid signature of a logged-in user).
func tokenChecker(t *testing.T, srv *wxauthtest.Server) func(token string) int {
	t.Helper()
	srv.Login("o-token")
	key, err := srv.SessionKey("o-token")
	require.NoError(t, err)
	return func(token string) int {
		t.Helper()
		return get(t, srv, wxauthtest.PathCheckSession, sessionQuery(token, "o-token", key)).ErrCode
	}
}

func TestAccessToken(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	check := tokenChecker(t, srv)

	first := get(t, srv, wxauthtest.PathToken, tokenQuery())
	assert.Equal(t, 7200, first.ExpiresIn)
	assert.Len(t, first.AccessToken, 64)
	assert.Equal(t, 0, check(first.AccessToken))

	// A new token replaces the first, which stays valid for TokenGrace.
	clk.Advance(time.Hour)
	second := get(t, srv, wxauthtest.PathToken, tokenQuery())
	require.NotEqual(t, first.AccessToken, second.AccessToken)
	clk.Advance(wxauthtest.TokenGrace - time.Second)
	assert.Equal(t, 0, check(first.AccessToken))
	clk.Advance(time.Second)
	assert.Equal(t, 40001, check(first.AccessToken))
	assert.Equal(t, 0, check(second.AccessToken))

	// Tokens expire after TokenTTL.
	clk.Advance(wxauthtest.TokenTTL)
	assert.Equal(t, 42001, check(second.AccessToken))

	assert.Equal(t, 41001, check(""))
	assert.Equal(t, 40001, check("not-a-token"))
}

func TestTokenRefusals(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	with := func(key, value string) url.Values {
		q := tokenQuery()
		q.Set(key, value)
		return q
	}
	stable := func(key string, value any) map[string]any {
		m := map[string]any{"grant_type": "client_credential", "appid": testAppID, "secret": testSecret}
		m[key] = value
		return m
	}
	tests := []struct {
		name    string
		send    func(t *testing.T) reply
		errcode int
	}{
		{"token: wrong appid", func(t *testing.T) reply { return get(t, srv, wxauthtest.PathToken, with("appid", "wx1")) }, 40013},
		{"token: wrong secret", func(t *testing.T) reply { return get(t, srv, wxauthtest.PathToken, with("secret", "x")) }, 40125},
		{"token: no secret", func(t *testing.T) reply { return get(t, srv, wxauthtest.PathToken, with("secret", "")) }, 41004},
		{"token: grant_type", func(t *testing.T) reply { return get(t, srv, wxauthtest.PathToken, with("grant_type", "password")) }, 40002},
		{"token: POST", func(t *testing.T) reply { return post(t, srv, wxauthtest.PathToken, tokenQuery(), nil) }, 43001},
		{"stable: wrong appid", func(t *testing.T) reply { return post(t, srv, wxauthtest.PathStableToken, nil, stable("appid", "wx1")) }, 40013},
		{"stable: wrong secret", func(t *testing.T) reply { return post(t, srv, wxauthtest.PathStableToken, nil, stable("secret", "x")) }, 40125},
		{"stable: no appid", func(t *testing.T) reply { return post(t, srv, wxauthtest.PathStableToken, nil, stable("appid", "")) }, 41002},
		{"stable: grant_type", func(t *testing.T) reply {
			return post(t, srv, wxauthtest.PathStableToken, nil, stable("grant_type", ""))
		}, 40002},
		{"stable: force_refresh not a bool", func(t *testing.T) reply {
			return post(t, srv, wxauthtest.PathStableToken, nil, stable("force_refresh", "yes"))
		}, 47001},
		{"stable: not JSON", func(t *testing.T) reply {
			return do(t, srv, http.MethodPost, wxauthtest.PathStableToken, nil, "appid=wx&secret=x")
		}, 47001},
		{"stable: empty body", func(t *testing.T) reply { return do(t, srv, http.MethodPost, wxauthtest.PathStableToken, nil, " ") }, 44002},
		{"stable: GET", func(t *testing.T) reply { return get(t, srv, wxauthtest.PathStableToken, nil) }, 43002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.send(t)
			assert.Equal(t, tt.errcode, r.ErrCode, r.ErrMsg)
			assert.Empty(t, r.AccessToken)
		})
	}
}

func TestStableToken(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	check := tokenChecker(t, srv)
	body := func(force bool) map[string]any {
		return map[string]any{"grant_type": "client_credential", "appid": testAppID, "secret": testSecret, "force_refresh": force}
	}

	first := post(t, srv, wxauthtest.PathStableToken, nil, body(false))
	assert.Equal(t, 7200, first.ExpiresIn)

	// Normal mode: the same token, with the time it has left.
	clk.Advance(time.Hour)
	again := post(t, srv, wxauthtest.PathStableToken, nil, body(false))
	assert.Equal(t, first.AccessToken, again.AccessToken)
	assert.Equal(t, 3600, again.ExpiresIn)
	assert.Equal(t, first.AccessToken, srv.AccessToken())

	// Plain tokens are separate: fetching one leaves the stable token valid.
	plain := get(t, srv, wxauthtest.PathToken, tokenQuery())
	assert.NotEqual(t, first.AccessToken, plain.AccessToken)
	assert.Equal(t, 0, check(first.AccessToken))

	// Force refresh: a new token; the old one is invalid at once.
	forced := post(t, srv, wxauthtest.PathStableToken, nil, body(true))
	require.NotEqual(t, first.AccessToken, forced.AccessToken)
	assert.Equal(t, 7200, forced.ExpiresIn)
	assert.Equal(t, 40001, check(first.AccessToken))
	assert.Equal(t, 0, check(forced.AccessToken))

	// After expiry, normal mode issues a new token.
	clk.Advance(wxauthtest.TokenTTL)
	assert.Equal(t, 42001, check(forced.AccessToken))
	renewed := post(t, srv, wxauthtest.PathStableToken, nil, body(false))
	require.NotEqual(t, forced.AccessToken, renewed.AccessToken)
	assert.Equal(t, 7200, renewed.ExpiresIn)
}

func TestPhoneNumber(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	id := srv.AddUser(wxauthtest.User{OpenID: "o-carol", PurePhoneNumber: "2025550123", CountryCode: "1"})
	tok := url.Values{"access_token": {srv.AccessToken()}}
	code, err := srv.PhoneCode(id)
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{64}$`, code)

	r := post(t, srv, wxauthtest.PathPhoneNumber, tok, map[string]string{"code": code})
	assert.Equal(t, 0, r.ErrCode)
	assert.Equal(t, "ok", r.ErrMsg)
	require.NotNil(t, r.PhoneInfo)
	assert.Equal(t, "+1 2025550123", r.PhoneInfo.PhoneNumber)
	assert.Equal(t, "2025550123", r.PhoneInfo.PurePhoneNumber)
	assert.Equal(t, "1", r.PhoneInfo.CountryCode)
	assert.Equal(t, crypto.Watermark{AppID: testAppID, Timestamp: clk.Now().Unix()}, r.PhoneInfo.Watermark)

	fresh := func() string {
		c, err := srv.PhoneCode(id)
		require.NoError(t, err)
		return c
	}
	expiredCode := fresh()
	clk.Advance(wxauthtest.CodeTTL)
	tests := []struct {
		name    string
		q       url.Values
		body    any
		errcode int
	}{
		{"used code", tok, map[string]string{"code": code}, 40029},
		{"expired code", tok, map[string]string{"code": expiredCode}, 40029},
		{"unknown code", tok, map[string]string{"code": "e31968a7f94cc5ee25fafc2aef2773f0"}, 40029},
		{"no code", tok, map[string]string{}, 41008},
		{"openid of another user", tok, map[string]string{"code": fresh(), "openid": "o-dave"}, 40003},
		{"no access_token", nil, map[string]string{"code": fresh()}, 41001},
		{"wrong access_token", url.Values{"access_token": {"x"}}, map[string]string{"code": fresh()}, 40001},
		{"not JSON", tok, "code", 47001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := post(t, srv, wxauthtest.PathPhoneNumber, tt.q, tt.body)
			assert.Equal(t, tt.errcode, r.ErrCode, r.ErrMsg)
			assert.Nil(t, r.PhoneInfo)
		})
	}

	// The code's own openid is accepted; a mainland user gets the defaults.
	mainland := srv.AddUser(wxauthtest.User{})
	c, err := srv.PhoneCode(mainland)
	require.NoError(t, err)
	r = post(t, srv, wxauthtest.PathPhoneNumber, tok, map[string]string{"code": c, "openid": mainland})
	require.NotNil(t, r.PhoneInfo)
	assert.Regexp(t, `^138001380\d\d$`, r.PhoneInfo.PhoneNumber, "a default number of its own")
	assert.Equal(t, r.PhoneInfo.PhoneNumber, r.PhoneInfo.PurePhoneNumber)
	assert.Equal(t, wxauthtest.DefaultCountryCode, r.PhoneInfo.CountryCode)
	other := srv.AddUser(wxauthtest.User{})
	u, _ := srv.User(other)
	assert.NotEqual(t, r.PhoneInfo.PurePhoneNumber, u.PurePhoneNumber, "two users without numbers are two people")
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	big := `{"code":"` + strings.Repeat("a", 1<<20) + `"}`
	resp, err := testClient().Post(srv.URL+wxauthtest.PathPhoneNumber+"?access_token="+srv.AccessToken(), "application/json", strings.NewReader(big))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestCheckSession(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	tok := srv.AccessToken()
	srv.Login("o1")
	key, err := srv.SessionKey("o1")
	require.NoError(t, err)
	notLoggedIn := srv.AddUser(wxauthtest.User{})
	with := func(k, v string) url.Values {
		q := sessionQuery(tok, "o1", key)
		q.Set(k, v)
		return q
	}
	tests := []struct {
		name    string
		method  string
		q       url.Values
		errcode int
	}{
		{"valid", http.MethodGet, sessionQuery(tok, "o1", key), 0},
		{"upper-case hex", http.MethodGet, with("signature", strings.ToUpper(crypto.SessionKeySignature(key))), 0},
		{"signature of another key", http.MethodGet, with("signature", crypto.SessionKeySignature("AAAAAAAAAAAAAAAAAAAAAA==")), 87009},
		{"signature not hex", http.MethodGet, with("signature", "zz"), 87009},
		{"no signature", http.MethodGet, with("signature", ""), 87009},
		{"user not logged in", http.MethodGet, with("openid", notLoggedIn), 87009},
		{"unknown openid", http.MethodGet, with("openid", "o-nobody"), 40003},
		{"sig_method", http.MethodGet, with("sig_method", "sha1"), 87008},
		{"no access_token", http.MethodGet, with("access_token", ""), 41001},
		{"POST", http.MethodPost, sessionQuery(tok, "o1", key), 43001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, srv, tt.method, wxauthtest.PathCheckSession, tt.q, "")
			assert.Equal(t, tt.errcode, r.ErrCode, r.ErrMsg)
			if tt.errcode == 0 {
				assert.Equal(t, reply{ErrMsg: "ok"}, r)
			}
		})
	}
}

func TestResetSessionKey(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	app := newApp(t, srv)
	tok := srv.AccessToken()
	sess, err := app.Code2Session(context.Background(), srv.Login("o1"))
	require.NoError(t, err)

	r := get(t, srv, wxauthtest.PathResetSessionKey, sessionQuery(tok, "o1", sess.SessionKey))
	assert.Equal(t, 0, r.ErrCode)
	assert.Equal(t, "ok", r.ErrMsg)
	assert.Equal(t, "o1", r.OpenID)
	require.NoError(t, crypto.CheckSessionKey(r.SessionKey))
	require.NotEqual(t, sess.SessionKey, r.SessionKey)
	key, err := srv.SessionKey("o1")
	require.NoError(t, err)
	assert.Equal(t, r.SessionKey, key)

	// The old key no longer checks out, nor resets again (87007: a stale
	// key); the new one does.
	assert.Equal(t, 87009, get(t, srv, wxauthtest.PathCheckSession, sessionQuery(tok, "o1", sess.SessionKey)).ErrCode)
	assert.Equal(t, 87007, get(t, srv, wxauthtest.PathResetSessionKey, sessionQuery(tok, "o1", sess.SessionKey)).ErrCode)
	assert.Equal(t, 87009, get(t, srv, wxauthtest.PathResetSessionKey, sessionQuery(tok, "o1", "AAAAAAAAAAAAAAAAAAAAAA==")).ErrCode,
		"a key the user never had is a bad signature")
	assert.Equal(t, 0, get(t, srv, wxauthtest.PathCheckSession, sessionQuery(tok, "o1", r.SessionKey)).ErrCode)

	// Data encrypted under the reset key decrypts with it.
	p, err := srv.Profile("o1")
	require.NoError(t, err)
	var user wxauth.UserInfo
	require.NoError(t, app.Decrypt(r.SessionKey, p.EncryptedData, p.IV, &user))
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	app := newApp(t, srv)
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			id := srv.AddUser(wxauthtest.User{NickName: "user" + string(rune('A'+w))})
			for range rounds {
				errs <- loginOnce(srv, app, id)
				clk.Advance(time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			_ = srv.FailNext(wxauthtest.PathToken, -1)
			_ = srv.Calls(wxauthtest.PathCode2Session)
			_ = srv.AccessToken()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, workers*rounds, srv.Calls(wxauthtest.PathCode2Session))
}

// loginOnce runs one login of id through app: code, session, profile.
func loginOnce(srv *wxauthtest.Server, app *wxauth.App, id string) error {
	sess, err := app.Code2Session(context.Background(), srv.Login(id))
	if err != nil {
		return err
	}
	p, err := srv.UserInfo(id)
	if err != nil {
		return err
	}
	var user wxauth.UserInfo
	if err := app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &user); err != nil {
		// Another goroutine cannot rotate id's key: each worker has its own user.
		return err
	}
	if user.OpenID != id {
		return errors.New("decrypted the profile of another user")
	}
	return nil
}

// testClient returns a client of its own, with a timeout, so that tests
// share no connection pool and a hang fails instead of stalling.
func testClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}
