package wxauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	compAppID  = "wx0c0e1f2a3b4c5d6e"
	compSecret = "c0mp0nent-s3cret-0123456789abcdef"
	compToken  = "pushTokenQ7x2"
	authAppID  = "wxa1b2c3d4e5f60718"
	authAppID2 = "wxb2c3d4e5f6071829"
)

// memRefresh is a RefreshTokenStore in memory, as an app would keep the
// refresh tokens in its database.
type memRefresh struct {
	mu    sync.Mutex
	m     map[string]string
	reads int
	fail  error
}

func newMemRefresh() *memRefresh { return &memRefresh{m: make(map[string]string)} }

func (s *memRefresh) RefreshToken(_ context.Context, appID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail != nil {
		return "", s.fail
	}
	return s.m[appID], nil
}

func (s *memRefresh) SaveRefreshToken(_ context.Context, appID, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[appID] = tok
	return nil
}

// componentEnv is a component on a fake WeChat, its push handler served
// on a local port, and a clock both read.
type componentEnv struct {
	comp    *wxauth.Component
	fake    *wxauthtest.ComponentServer
	handler *httptest.Server
	clock   *wxauthtest.Clock
	aesKey  string
	logs    *syncBuffer
	refresh *memRefresh
}

func newComponentEnv(t *testing.T, opts ...wxauth.Option) *componentEnv {
	t.Helper()
	// Starts at the real time: a shared NewMemoryTokenStore reads the real clock.
	clk := wxauthtest.NewClock(time.Now())
	key := wxauthtest.NewEncodingAESKey()
	fake := wxauthtest.NewComponentServer(compAppID, compSecret, compToken, key, wxauthtest.WithClock(clk.Now))
	t.Cleanup(fake.Close)
	e := &componentEnv{fake: fake, clock: clk, aesKey: key, logs: &syncBuffer{}, refresh: newMemRefresh()}
	e.comp = e.newComponent(t, opts...)
	e.handler = httptest.NewServer(e.comp.TicketHandler())
	t.Cleanup(e.handler.Close)
	return e
}

// newComponent returns another component of the env's fake (one more
// instance of a fleet when opts share a token store).
func (e *componentEnv) newComponent(t *testing.T, opts ...wxauth.Option) *wxauth.Component {
	t.Helper()
	base := []wxauth.Option{
		wxauth.WithBaseURL(e.fake.URL),
		wxauth.WithClock(e.clock.Now),
		wxauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
		wxauth.WithLogger(newDebugLogger(e.logs)),
		wxauth.WithRefreshTokens(e.refresh),
	}
	c, err := wxauth.NewComponent(compAppID, compSecret, compToken, e.aesKey, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// TestComponentEndToEnd: from a pushed ticket, an authorization event
// whose code gives the refresh token, the login of a user of the
// authorizer app, and their phone number.
func TestComponentEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var events []wxauth.ComponentEvent
	var e *componentEnv
	e = newComponentEnv(t, wxauth.WithComponentEvents(func(ctx context.Context, ev *wxauth.ComponentEvent) error {
		events = append(events, *ev)
		if ev.InfoType == wxauth.InfoAuthorized {
			_, err := e.comp.QueryAuth(ctx, ev.AuthorizationCode)
			return err
		}
		return nil
	}))

	require.NoError(t, e.fake.PushTicket(ctx, e.handler.URL))
	require.NoError(t, e.fake.PushEvent(ctx, e.handler.URL, wxauth.InfoAuthorized, authAppID))
	require.Len(t, events, 1)
	assert.Equal(t, compAppID, events[0].AppID)
	assert.Equal(t, authAppID, events[0].AuthorizerAppID)
	assert.NotEmpty(t, events[0].AuthorizationCode)
	assert.NotEmpty(t, e.refresh.m[authAppID], "QueryAuth saved the refresh token")

	mp := e.fake.App(authAppID)
	require.NotNil(t, mp)
	openid := mp.AddUser(wxauthtest.User{UnionID: "oU-union-0001", PurePhoneNumber: "13912345678"})
	code := mp.Login(openid)

	client, err := e.comp.App(ctx, authAppID)
	require.NoError(t, err)
	assert.Equal(t, miniauth.WeChat, client.Platform())
	assert.Equal(t, authAppID, client.AppID())
	sess, err := client.Code2Session(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, authAppID, sess.AppID)
	assert.Equal(t, openid, sess.OpenID)
	assert.Equal(t, "oU-union-0001", sess.UnionID)
	key, err := mp.SessionKey(openid)
	require.NoError(t, err)
	assert.Equal(t, key, sess.SessionKey)

	// The profile decrypts with the session key and the authorizer's watermark.
	prof, err := mp.UserInfo(openid)
	require.NoError(t, err)
	var ui wxauth.UserInfo
	require.NoError(t, client.(miniauth.Decrypter).Decrypt(sess.SessionKey, prof.EncryptedData, prof.IV, &ui))
	require.NoError(t, client.(miniauth.SignatureVerifier).VerifySignature(sess.SessionKey, prof.RawData, prof.Signature))

	phoneCode, err := mp.PhoneCode(openid)
	require.NoError(t, err)
	phone, err := client.(miniauth.PhoneExchanger).GetPhoneNumber(ctx, phoneCode, wxauth.ForOpenID(openid))
	require.NoError(t, err)
	assert.Equal(t, "13912345678", phone.PurePhoneNumber)
	assert.Equal(t, authAppID, phone.Watermark.AppID)

	assert.Equal(t, 1, e.fake.Calls(wxauthtest.PathComponentToken), "one component token for everything")
	assert.Equal(t, 1, e.fake.Calls(wxauthtest.PathAuthorizerToken))

	// A second phone code reuses the cached authorizer token.
	phoneCode, err = mp.PhoneCode(openid)
	require.NoError(t, err)
	_, err = client.(miniauth.PhoneExchanger).GetPhoneNumber(ctx, phoneCode, wxauth.ForOpenID(openid))
	require.NoError(t, err)
	assert.Equal(t, 1, e.fake.Calls(wxauthtest.PathAuthorizerToken))

	// Withdrawn: the event reaches the handler, and WeChat refuses the app.
	require.NoError(t, e.fake.PushEvent(ctx, e.handler.URL, wxauth.InfoUnauthorized, authAppID))
	require.Len(t, events, 2)
	assert.Equal(t, wxauth.InfoUnauthorized, events[1].InfoType)
	code = mp.Login(openid)
	_, err = client.Code2Session(ctx, code)
	require.ErrorIs(t, err, miniauth.ErrUnknownApp)
	var ae *wxauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 61003, ae.Code)
}

// TestComponentNoTicket: without a ticket no login is attempted and none
// is sent upstream.
func TestComponentNoTicket(t *testing.T) {
	t.Parallel()
	e := newComponentEnv(t)
	mp, _ := e.fake.Authorize(authAppID)
	code := mp.Login("")
	c, err := e.comp.App(context.Background(), authAppID)
	require.NoError(t, err)
	_, err = c.Code2Session(context.Background(), code)
	require.ErrorIs(t, err, wxauth.ErrNoTicket)
	assert.Zero(t, e.fake.Calls(wxauthtest.PathComponentToken))
	assert.Zero(t, e.fake.Calls(wxauthtest.PathComponentCode2Session))

	// The ticket arrives; the same code, never sent, still works.
	require.NoError(t, e.fake.PushTicket(context.Background(), e.handler.URL))
	_, err = c.Code2Session(context.Background(), code)
	require.NoError(t, err)
}

// TestComponentTicketOutlivesStalledPushes: the last ticket mints tokens
// for 12 hours after it was pushed, and not after.
func TestComponentTicketOutlivesStalledPushes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newComponentEnv(t)
	mp, _ := e.fake.Authorize(authAppID)
	require.NoError(t, e.fake.PushTicket(ctx, e.handler.URL))
	c, err := e.comp.App(ctx, authAppID)
	require.NoError(t, err)
	for range 5 { // 10 hours without a push: five token lifetimes
		_, err = c.Code2Session(ctx, mp.Login(""))
		require.NoError(t, err)
		e.clock.Advance(2 * time.Hour)
	}
	assert.Equal(t, 5, e.fake.Calls(wxauthtest.PathComponentToken))
	assert.Contains(t, e.logs.String(), "no ticket pushed lately", "the operator hears of stalled pushes")
	e.clock.Advance(2*time.Hour + time.Second) // the ticket is over 12 hours old
	_, err = c.Code2Session(ctx, mp.Login(""))
	require.ErrorIs(t, err, wxauth.ErrNoTicket)
}

// TestComponentApps: the component is a miniauth.Apps of many apps: ""
// and malformed appids are refused before any request, and the check the
// app supplies decides which appids are served.
func TestComponentApps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbDown := errors.New("tenant db down")
	check := func(_ context.Context, id string) (bool, error) {
		switch id {
		case authAppID:
			return true, nil
		case "wxdbdown000000000":
			return false, dbDown
		}
		return false, nil
	}
	e := newComponentEnv(t, wxauth.WithAuthorizerCheck(check))
	for _, id := range []string{"", "wx:1", "wx{1}", strings.Repeat("a", 65), "wx 1", authAppID2} {
		_, err := e.comp.App(ctx, id)
		require.ErrorIs(t, err, miniauth.ErrUnknownApp, "%q", id)
	}
	_, err := e.comp.App(ctx, "wxdbdown000000000")
	require.ErrorIs(t, err, dbDown)
	assert.NotErrorIs(t, err, miniauth.ErrUnknownApp)
	c, err := e.comp.App(ctx, authAppID)
	require.NoError(t, err)
	assert.Equal(t, authAppID, c.AppID())
	got, err := miniauth.ResolveApp(ctx, e.comp, miniauth.WeChat, authAppID)
	require.NoError(t, err)
	assert.Equal(t, authAppID, got.AppID())
	_, err = miniauth.ResolveApp(ctx, e.comp, miniauth.Douyin, authAppID)
	require.ErrorIs(t, err, miniauth.ErrUnknownApp)
	assert.Zero(t, e.fake.Calls(wxauthtest.PathComponentCode2Session))

	// Without a check, WeChat's 61003 says the app did not authorize; the
	// code is not spent.
	open := newComponentEnv(t)
	require.NoError(t, open.fake.PushTicket(ctx, open.handler.URL))
	mp, _ := open.fake.Authorize(authAppID)
	open.fake.Unauthorize(authAppID)
	code := mp.Login("")
	c, err = open.comp.App(ctx, authAppID)
	require.NoError(t, err)
	_, err = c.Code2Session(ctx, code)
	require.ErrorIs(t, err, miniauth.ErrUnknownApp)
	open.fake.Authorize(authAppID)
	_, err = c.Code2Session(ctx, code)
	require.NoError(t, err, "the refused call did not spend the code")
}

// TestComponentTokenRefusedRefetchedOnce: a component token WeChat refuses
// is dropped and the call retried once with a new one.
func TestComponentTokenRefusedRefetchedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, errcode := range []int{40001, 42001, 40014} {
		e := newComponentEnv(t)
		mp, _ := e.fake.Authorize(authAppID)
		require.NoError(t, e.fake.PushTicket(ctx, e.handler.URL))
		c, err := e.comp.App(ctx, authAppID)
		require.NoError(t, err)
		_, err = c.Code2Session(ctx, mp.Login(""))
		require.NoError(t, err)
		require.NoError(t, e.fake.FailNext(wxauthtest.PathComponentCode2Session, errcode))
		_, err = c.Code2Session(ctx, mp.Login(""))
		require.NoError(t, err, "errcode %d", errcode)
		assert.Equal(t, 2, e.fake.Calls(wxauthtest.PathComponentToken), "errcode %d", errcode)
		assert.Equal(t, 3, e.fake.Calls(wxauthtest.PathComponentCode2Session))

		// Refused twice: the second refusal is returned, no third token.
		require.NoError(t, e.fake.FailNext(wxauthtest.PathComponentCode2Session, errcode))
		require.NoError(t, e.fake.FailNext(wxauthtest.PathComponentCode2Session, errcode))
		_, err = c.Code2Session(ctx, mp.Login(""))
		require.ErrorIs(t, err, miniauth.ErrInvalidCredential)
		assert.Equal(t, 3, e.fake.Calls(wxauthtest.PathComponentToken))
	}
}

// TestComponentTicketRefused: a ticket WeChat calls expired or invalid
// is ErrNoTicket; a wrong secret is ErrInvalidCredential.
func TestComponentTicketRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for code, want := range map[int]error{61005: wxauth.ErrNoTicket, 61006: wxauth.ErrNoTicket, 40125: miniauth.ErrInvalidCredential, 61004: miniauth.ErrNotAllowed} {
		e := newComponentEnv(t)
		require.NoError(t, e.fake.PushTicket(ctx, e.handler.URL))
		require.NoError(t, e.fake.FailNext(wxauthtest.PathComponentToken, code))
		_, err := e.comp.AccessToken(ctx)
		require.ErrorIs(t, err, want, "errcode %d", code)
	}
}

// TestComponentFleetOneTokenRequest: the instances of a fleet share one
// store; one of them receives the ticket, and the fleet makes one token
// request per token lifetime, component and authorizer alike.
func TestComponentFleetOneTokenRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := wxauth.NewMemoryTokenStore()
	e := newComponentEnv(t, wxauth.WithTokenStore(store))
	fleet := []*wxauth.Component{e.comp}
	for range 4 {
		fleet = append(fleet, e.newComponent(t, wxauth.WithTokenStore(store)))
	}
	mp, rt := e.fake.Authorize(authAppID)
	require.NoError(t, e.refresh.SaveRefreshToken(ctx, authAppID, rt))
	require.NoError(t, e.fake.PushTicket(ctx, e.handler.URL)) // to the first instance only

	const perInstance = 20
	round := func() {
		var wg sync.WaitGroup
		errs := make(chan error, len(fleet)*perInstance*2)
		for _, comp := range fleet {
			for range perInstance {
				openid := mp.AddUser(wxauthtest.User{})
				code := mp.Login(openid)
				phoneCode, err := mp.PhoneCode(openid)
				require.NoError(t, err)
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := comp.Authorizer(ctx, authAppID)
					if err != nil {
						errs <- err
						return
					}
					if _, err := c.Code2Session(ctx, code); err != nil {
						errs <- err
					}
					if _, err := c.GetPhoneNumber(ctx, phoneCode, wxauth.ForOpenID(openid)); err != nil {
						errs <- err
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	round()
	assert.Equal(t, 1, e.fake.Calls(wxauthtest.PathComponentToken))
	assert.Equal(t, 1, e.fake.Calls(wxauthtest.PathAuthorizerToken))

	// Near the end of the tokens' lives: one refresh each for the fleet,
	// in the background while the old tokens still serve.
	e.clock.Advance(2*time.Hour - 4*time.Minute)
	round()
	require.Eventually(t, func() bool {
		return e.fake.Calls(wxauthtest.PathComponentToken) == 2 && e.fake.Calls(wxauthtest.PathAuthorizerToken) == 2
	}, 5*time.Second, 5*time.Millisecond)
	round()
	assert.Equal(t, 2, e.fake.Calls(wxauthtest.PathComponentToken))
	assert.Equal(t, 2, e.fake.Calls(wxauthtest.PathAuthorizerToken))
}

// TestComponentNoRefreshToken: logins need no refresh token; phone
// numbers do, and say so.
func TestComponentNoRefreshToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newComponentEnv(t)
	mp, _ := e.fake.Authorize(authAppID)
	openid := mp.AddUser(wxauthtest.User{})
	require.NoError(t, e.fake.PushTicket(ctx, e.handler.URL))
	c, err := e.comp.Authorizer(ctx, authAppID)
	require.NoError(t, err)
	phoneCode, err := mp.PhoneCode(openid)
	require.NoError(t, err)
	_, err = c.GetPhoneNumber(ctx, phoneCode)
	require.ErrorIs(t, err, wxauth.ErrNoRefreshToken)
	require.ErrorIs(t, err, miniauth.ErrNotAllowed, "an operator's to fix")
	assert.Zero(t, e.fake.Calls(wxauthtest.PathAuthorizerToken))

	// A refresh token WeChat refuses (61023) is a credential error.
	require.NoError(t, e.refresh.SaveRefreshToken(ctx, authAppID, "refreshtoken@@@not-the-real-one"))
	_, err = c.GetPhoneNumber(ctx, phoneCode)
	require.ErrorIs(t, err, miniauth.ErrInvalidCredential)

	// The store's own failure is returned as it is.
	e.refresh.fail = errors.New("refresh db down")
	other, err := e.comp.Authorizer(ctx, authAppID2)
	require.NoError(t, err)
	_, err = other.AccessToken(ctx)
	require.ErrorIs(t, err, e.refresh.fail)

	// A component without WithRefreshTokens at all.
	bare, err := wxauth.NewComponent(compAppID, compSecret, compToken, e.aesKey, wxauth.WithBaseURL(e.fake.URL))
	require.NoError(t, err)
	a, err := bare.Authorizer(ctx, authAppID)
	require.NoError(t, err)
	_, err = a.AccessToken(ctx)
	require.ErrorIs(t, err, wxauth.ErrNoRefreshToken)
}

// TestNewComponentValidates: the constructor refuses what cannot work,
// and never quotes a secret.
func TestNewComponentValidates(t *testing.T) {
	t.Parallel()
	key := wxauthtest.NewEncodingAESKey()
	for name, tc := range map[string]struct {
		appID, secret, token, key string
		opts                      []wxauth.Option
	}{
		"empty appid":        {"", compSecret, compToken, key, nil},
		"appid with colon":   {"wx:1", compSecret, compToken, key, nil},
		"empty secret":       {compAppID, "", compToken, key, nil},
		"empty token":        {compAppID, compSecret, "", key, nil},
		"short key":          {compAppID, compSecret, compToken, key[:42], nil},
		"long key":           {compAppID, compSecret, compToken, key + "A", nil},
		"key not base64":     {compAppID, compSecret, compToken, key[:42] + "!", nil},
		"classic token":      {compAppID, compSecret, compToken, key, []wxauth.Option{wxauth.WithClassicToken()}},
		"token source":       {compAppID, compSecret, compToken, key, []wxauth.Option{wxauth.WithTokenSource(wxauth.StaticTokenSource("x"))}},
		"nil check":          {compAppID, compSecret, compToken, key, []wxauth.Option{wxauth.WithAuthorizerCheck(nil)}},
		"nil refresh tokens": {compAppID, compSecret, compToken, key, []wxauth.Option{wxauth.WithRefreshTokens(nil)}},
		"nil events":         {compAppID, compSecret, compToken, key, []wxauth.Option{wxauth.WithComponentEvents(nil)}},
		"bad base URL":       {compAppID, compSecret, compToken, key, []wxauth.Option{wxauth.WithBaseURL("ftp://x")}},
		"bad previous key":   {compAppID, compSecret, compToken, key, []wxauth.Option{wxauth.WithPreviousEncodingAESKey(key[:40])}},
	} {
		_, err := wxauth.NewComponent(tc.appID, tc.secret, tc.token, tc.key, tc.opts...)
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "wxauth: "), name)
		for _, s := range []string{compSecret, key, compToken} {
			assert.NotContains(t, err.Error(), s, name)
		}
	}
	// API security mode's keys are one mini-program's.
	secured := wxauthtest.NewServer(testAppID, testSecret, wxauthtest.WithAPISecurity())
	t.Cleanup(secured.Close)
	_, err := wxauth.NewComponent(compAppID, compSecret, compToken, key, wxauth.WithAPISecurity(securityOf(t, secured)))
	require.ErrorContains(t, err, "WithAPISecurity is an option of New")
	// Component options are refused by New.
	for _, o := range []wxauth.Option{
		wxauth.WithAuthorizerCheck(func(context.Context, string) (bool, error) { return true, nil }),
		wxauth.WithRefreshTokens(newMemRefresh()),
		wxauth.WithComponentEvents(func(context.Context, *wxauth.ComponentEvent) error { return nil }),
		wxauth.WithPreviousEncodingAESKey(key),
	} {
		_, err := wxauth.New(testAppID, testSecret, o)
		require.ErrorContains(t, err, "option of NewComponent")
	}
}

// TestComponentEvents: events other than the ticket reach the handler;
// a handler that fails makes the push fail (WeChat pushes it again), and
// without a handler they are answered success.
func TestComponentEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fail := true
	var got []wxauth.ComponentEvent
	e := newComponentEnv(t, wxauth.WithComponentEvents(func(_ context.Context, ev *wxauth.ComponentEvent) error {
		got = append(got, *ev)
		if fail {
			return errors.New("db down")
		}
		return nil
	}))
	err := e.fake.PushEvent(ctx, e.handler.URL, wxauth.InfoUpdateAuthorized, authAppID)
	var pe *wxauthtest.PushError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusInternalServerError, pe.StatusCode)
	fail = false
	require.NoError(t, e.fake.PushEvent(ctx, e.handler.URL, wxauth.InfoUpdateAuthorized, authAppID))
	require.NoError(t, e.fake.PushEvent(ctx, e.handler.URL, "notify_third_fasteregister", authAppID))
	require.Len(t, got, 3)
	assert.Equal(t, "notify_third_fasteregister", got[2].InfoType)
	assert.Contains(t, string(got[2].Raw), "notify_third_fasteregister")
	assert.Positive(t, got[1].AuthorizationCodeExpiredTime)
	j, err := json.Marshal(got[1])
	require.NoError(t, err)
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("event", "ev", got[1], "nested", struct{ E *wxauth.ComponentEvent }{&got[1]})
	for _, v := range []string{fmt.Sprint(got[1]), fmt.Sprintf("%+v %#v %s", got[1], &got[1], got[1]), string(j), logged.String()} {
		assert.NotContains(t, v, got[1].AuthorizationCode)
	}
	assert.Contains(t, string(j), authAppID)

	quiet := newComponentEnv(t)
	require.NoError(t, quiet.fake.PushEvent(ctx, quiet.handler.URL, wxauth.InfoAuthorized, authAppID))
}

// TestComponentPushRefused: a push that is not WeChat's, not for this
// component, or not well formed is never answered success, and leaves no
// ticket behind.
func TestComponentPushRefused(t *testing.T) {
	t.Parallel()
	e := newComponentEnv(t)
	now := e.clock.Now()
	ticketXML := func(appID string, created time.Time, ticket string) []byte {
		return fmt.Appendf(nil, "<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[%s]]></ComponentVerifyTicket></xml>",
			appID, created.Unix(), ticket)
	}
	good := ticketXML(compAppID, now, "ticket@@@good")
	seal := func(token, key, appID string, msg []byte) (string, []byte) {
		q, body, err := wxauthtest.SealPush(token, key, appID, msg, now)
		require.NoError(t, err)
		return q.Encode(), body
	}
	okQuery, okBody := seal(compToken, e.aesKey, compAppID, good)

	type push struct {
		method, query string
		body          []byte
		want          int
	}
	cases := map[string]push{
		"GET":           {http.MethodGet, okQuery, nil, http.StatusMethodNotAllowed},
		"no query":      {http.MethodPost, "", okBody, http.StatusBadRequest},
		"oversize":      {http.MethodPost, okQuery, []byte("<xml><Encrypt>" + strings.Repeat("A", 64<<10) + "</Encrypt></xml>"), http.StatusRequestEntityTooLarge},
		"body not XML":  {http.MethodPost, okQuery, []byte(`{"Encrypt":"x"}`), http.StatusBadRequest},
		"empty body":    {http.MethodPost, okQuery, nil, http.StatusBadRequest},
		"two documents": {http.MethodPost, okQuery, append(append([]byte{}, okBody...), okBody...), http.StatusBadRequest},
		"wrong token": func() push {
			q, b := seal("another-token", e.aesKey, compAppID, good)
			return push{http.MethodPost, q, b, 400}
		}(),
		"wrong key": func() push {
			q, b := seal(compToken, wxauthtest.NewEncodingAESKey(), compAppID, good)
			return push{http.MethodPost, q, b, 400}
		}(),
		"foreign trailer": func() push {
			q, b := seal(compToken, e.aesKey, "wxforeign00000000", good)
			return push{http.MethodPost, q, b, 400}
		}(),
		"foreign inner AppId": func() push {
			q, b := seal(compToken, e.aesKey, compAppID, ticketXML("wxforeign00000000", now, "t@@@x"))
			return push{http.MethodPost, q, b, 400}
		}(),
		"inner not XML": func() push {
			q, b := seal(compToken, e.aesKey, compAppID, []byte("ticket=abc"))
			return push{http.MethodPost, q, b, 400}
		}(),
		"no InfoType": func() push {
			q, b := seal(compToken, e.aesKey, compAppID, []byte("<xml><AppId>"+compAppID+"</AppId></xml>"))
			return push{http.MethodPost, q, b, 400}
		}(),
		"empty ticket": func() push {
			q, b := seal(compToken, e.aesKey, compAppID, ticketXML(compAppID, now, ""))
			return push{http.MethodPost, q, b, 400}
		}(),
		"ticket with space": func() push {
			q, b := seal(compToken, e.aesKey, compAppID, ticketXML(compAppID, now, "a b"))
			return push{http.MethodPost, q, b, 400}
		}(),
		"stale ticket": func() push {
			q, b := seal(compToken, e.aesKey, compAppID, ticketXML(compAppID, now.Add(-13*time.Hour), "t@@@old"))
			return push{http.MethodPost, q, b, 400}
		}(),
	}
	// Tampering with a good push after it was signed.
	cases["tampered signature"] = push{http.MethodPost, strings.Replace(okQuery, "msg_signature=", "msg_signature=0", 1), okBody, 400}
	cases["tampered ciphertext"] = push{http.MethodPost, okQuery, []byte(strings.Replace(string(okBody), "<Encrypt><![CDATA[", "<Encrypt><![CDATA[AAAA", 1)), 400}
	cases["envelope for another appid"] = push{http.MethodPost, okQuery, []byte(strings.Replace(string(okBody), compAppID, "wxforeign00000000", 1)), 400}

	for name, p := range cases {
		req := httptest.NewRequest(p.method, "/wechat/component?"+p.query, strings.NewReader(string(p.body)))
		rec := httptest.NewRecorder()
		e.comp.TicketHandler().ServeHTTP(rec, req)
		assert.Equal(t, p.want, rec.Code, name)
		assert.NotContains(t, rec.Body.String(), "success", name)
	}
	_, err := e.comp.AccessToken(context.Background())
	require.ErrorIs(t, err, wxauth.ErrNoTicket, "no refused push left a ticket")
	assert.NotContains(t, e.logs.String(), "ticket@@@good")

	// The good push itself is accepted.
	req := httptest.NewRequest(http.MethodPost, "/wechat/component?"+okQuery, strings.NewReader(string(okBody)))
	rec := httptest.NewRecorder()
	e.comp.TicketHandler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "success", rec.Body.String())
}

// TestComponentSecretsNeverShown: the component secret, the
// EncodingAESKey, the message token, tickets, component and authorizer
// tokens and refresh tokens reach no error and no log line, on success or
// failure.
func TestComponentSecretsNeverShown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newComponentEnv(t)
	mp, rt := e.fake.Authorize(authAppID)
	require.NoError(t, e.refresh.SaveRefreshToken(ctx, authAppID, rt))
	require.NoError(t, e.fake.PushTicket(ctx, e.handler.URL))
	c, err := e.comp.Authorizer(ctx, authAppID)
	require.NoError(t, err)
	openid := mp.AddUser(wxauthtest.User{})
	_, err = c.Code2Session(ctx, mp.Login(openid))
	require.NoError(t, err)
	compTok, err := e.comp.AccessToken(ctx)
	require.NoError(t, err)
	authTok, err := c.AccessToken(ctx)
	require.NoError(t, err)
	ticket := e.fake.Ticket()
	secrets := []string{compSecret, e.aesKey, compToken, ticket, compTok, authTok, rt}

	var errs []error
	// WeChat echoing what it was sent in errmsg.
	require.NoError(t, e.fake.FailNext(wxauthtest.PathComponentCode2Session, 40029, wxauthtest.WithErrMsg("bad code "+compTok)))
	_, err = c.Code2Session(ctx, mp.Login(openid))
	errs = append(errs, err)
	// Transport failures, whose URLs carry the tokens.
	e.fake.Close()
	_, err = c.Code2Session(ctx, mp.Login(openid))
	errs = append(errs, err)
	e.comp.InvalidateAccessToken(ctx, compTok)
	c.InvalidateAccessToken(ctx, authTok)
	_, err = c.AccessToken(ctx)
	errs = append(errs, err)
	_, err = e.comp.QueryAuth(ctx, "queryauthcode@@@abc")
	errs = append(errs, err)

	for _, err := range errs {
		require.Error(t, err)
		for _, s := range secrets {
			assert.NotContains(t, err.Error(), s)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), s)
		}
	}
	printed := fmt.Sprintf("%v %+v %#v %v %+v %#v %v", e.comp, e.comp, *e.comp, c, c, *c, wxauth.Authorization{AuthorizerAppID: authAppID, RefreshToken: rt})
	assert.NotPanics(t, func() { _ = fmt.Sprintf("%v %+v %#v", wxauth.AuthorizerApp{}, wxauth.Component{}, &wxauth.Component{}) })
	j, err := json.Marshal(wxauth.Authorization{AuthorizerAppID: authAppID, RefreshToken: rt})
	require.NoError(t, err)
	assert.NotContains(t, string(j), rt)
	assert.Contains(t, string(j), authAppID)
	for _, s := range secrets {
		assert.NotContains(t, e.logs.String(), s)
		assert.NotContains(t, printed, s)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("a", "auth", wxauth.Authorization{AuthorizerAppID: authAppID, RefreshToken: rt})
	assert.NotContains(t, logged.String(), rt)
}

// TestComponentPreviousKey: while a new EncodingAESKey takes effect, pushes
// made with the previous one are accepted when it is given, and only then.
func TestComponentPreviousKey(t *testing.T) {
	t.Parallel()
	old := wxauthtest.NewEncodingAESKey()
	e := newComponentEnv(t, wxauth.WithPreviousEncodingAESKey(old))
	strict := e.newComponent(t)
	msg := fmt.Appendf(nil, "<xml><AppId>%s</AppId><CreateTime>%d</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>ticket@@@old-key</ComponentVerifyTicket></xml>",
		compAppID, e.clock.Now().Unix())
	for key, want := range map[string][2]int{
		old:                            {http.StatusOK, http.StatusBadRequest},
		e.aesKey:                       {http.StatusOK, http.StatusOK},
		wxauthtest.NewEncodingAESKey(): {http.StatusBadRequest, http.StatusBadRequest},
	} {
		q, body, err := wxauthtest.SealPush(compToken, key, compAppID, msg, e.clock.Now())
		require.NoError(t, err)
		for i, c := range []*wxauth.Component{e.comp, strict} {
			rec := httptest.NewRecorder()
			c.TicketHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?"+q.Encode(), strings.NewReader(string(body))))
			assert.Equal(t, want[i], rec.Code)
		}
	}
}

// TestAuthorizerRefreshTokenRotation: a refresh token WeChat hands back
// changed is saved, once, and used from then on; one unchanged is not
// written back.
func TestAuthorizerRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		switch r.URL.Path {
		case "/cgi-bin/component/api_component_token":
			_, _ = io.WriteString(w, `{"component_access_token":"component-token-0123456789","expires_in":7200}`)
		case "/cgi-bin/component/api_authorizer_token":
			var body struct {
				RT string `json:"authorizer_refresh_token"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			mu.Lock()
			sent = append(sent, body.RT)
			mu.Unlock()
			_, _ = fmt.Fprintf(w, `{"authorizer_access_token":"authorizer-token-%d-0123456789","expires_in":7200,"authorizer_refresh_token":"refreshtoken@@@rotated"}`, len(sent))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	clk := wxauthtest.NewClock(time.Now())
	key := wxauthtest.NewEncodingAESKey()
	refresh := newMemRefresh()
	require.NoError(t, refresh.SaveRefreshToken(ctx, authAppID, "refreshtoken@@@first"))
	comp, err := wxauth.NewComponent(compAppID, compSecret, compToken, key, wxauth.WithBaseURL(srv.URL),
		wxauth.WithRefreshTokens(refresh), wxauth.WithClock(clk.Now))
	require.NoError(t, err)
	q, body, err := wxauthtest.SealPush(compToken, key, compAppID, fmt.Appendf(nil,
		"<xml><AppId>%s</AppId><CreateTime>%d</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>ticket@@@x</ComponentVerifyTicket></xml>",
		compAppID, clk.Now().Unix()), clk.Now())
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	comp.TicketHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?"+q.Encode(), strings.NewReader(string(body))))
	require.Equal(t, http.StatusOK, rec.Code)

	a, err := comp.Authorizer(ctx, authAppID)
	require.NoError(t, err)
	tok, err := a.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, "authorizer-token-1-0123456789", tok)
	assert.Equal(t, "refreshtoken@@@rotated", refresh.m[authAppID], "the rotated refresh token is saved")
	clk.Advance(2 * time.Hour) // the next mint uses the rotated one
	tok, err = a.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, "authorizer-token-2-0123456789", tok)
	assert.Equal(t, []string{"refreshtoken@@@first", "refreshtoken@@@rotated"}, sent)
}
