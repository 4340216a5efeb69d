package wxauth_test

// End-to-end tests of the access token and the APIs that need it, against
// the fake WeChat of package wxauthtest.

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

func TestE2EAccessTokenIsFetchedOnce(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]wxauth.Option{
		"stable_token":  nil,
		"classic token": {wxauth.WithClassicToken()},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, app := e2eSetup(t, nil, opts...)
			var wg sync.WaitGroup
			toks := make([]string, 50)
			for i := range toks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tok, err := app.AccessToken(context.Background())
					assert.NoError(t, err)
					toks[i] = tok
				}()
			}
			wg.Wait()
			for _, tok := range toks {
				assert.Equal(t, toks[0], tok)
			}
			assert.Equal(t, 1, srv.Calls(wxauthtest.PathStableToken)+srv.Calls(wxauthtest.PathToken))
		})
	}
}

func TestE2EGetPhoneNumber(t *testing.T) {
	t.Parallel()
	srv, app := e2eSetup(t, nil)
	ctx := context.Background()
	id := srv.AddUser(wxauthtest.User{PhoneNumber: "+8613912345678", PurePhoneNumber: "13912345678", CountryCode: "86"})
	code, err := srv.PhoneCode(id)
	require.NoError(t, err)

	p, err := app.GetPhoneNumber(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, "+8613912345678", p.PhoneNumber)
	assert.Equal(t, "13912345678", p.PurePhoneNumber)
	assert.Equal(t, "86", p.CountryCode)
	assert.Equal(t, e2eAppID, p.Watermark.AppID)

	_, err = app.GetPhoneNumber(ctx, code)
	require.ErrorIs(t, err, wxauth.ErrInvalidPhoneCode, "a phone code works once")
	assert.NotErrorIs(t, err, wxauth.ErrInvalidCode, "a refused phone code is told apart from a refused login code")
	assert.NotContains(t, err.Error(), code)
	assert.NotContains(t, err.Error(), srv.AccessToken())
}

func TestE2ECheckAndResetSessionKey(t *testing.T) {
	t.Parallel()
	srv, app := e2eSetup(t, nil)
	ctx := context.Background()
	sess, err := app.Code2Session(ctx, srv.Login(""))
	require.NoError(t, err)

	require.NoError(t, app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey))

	fresh, err := app.ResetSessionKey(ctx, sess.OpenID, sess.SessionKey)
	require.NoError(t, err)
	assert.Equal(t, sess.OpenID, fresh.OpenID)
	assert.Equal(t, sess.AppID, fresh.AppID, "a session of its app, as Code2Session's")
	assert.Equal(t, miniauth.WeChat, fresh.Platform)
	assert.NotEqual(t, sess.SessionKey, fresh.SessionKey)
	current, err := srv.SessionKey(sess.OpenID)
	require.NoError(t, err)
	assert.Equal(t, current, fresh.SessionKey)

	err = app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey)
	require.ErrorIs(t, err, wxauth.ErrSessionKeyExpired, "the old key no longer works")
	assert.NotContains(t, err.Error(), sess.SessionKey)
	require.NoError(t, app.CheckSessionKey(ctx, sess.OpenID, fresh.SessionKey))

	// A new wx.login rotates the key too.
	srv.Login(sess.OpenID)
	require.ErrorIs(t, app.CheckSessionKey(ctx, sess.OpenID, fresh.SessionKey), wxauth.ErrSessionKeyExpired)
}

func TestE2ERefusedTokenIsReplaced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Classic tokens: a refused token is dropped, a new one fetched, and the
	// call retried once with it.
	srv, app := e2eSetup(t, nil, wxauth.WithClassicToken())
	sess, err := app.Code2Session(ctx, srv.Login(""))
	require.NoError(t, err)
	require.NoError(t, srv.FailNext(wxauthtest.PathCheckSession, 40001))
	require.NoError(t, app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey))
	assert.Equal(t, 2, srv.Calls(wxauthtest.PathToken))
	assert.Equal(t, 2, srv.Calls(wxauthtest.PathCheckSession))

	// Stable tokens in normal mode: WeChat hands back the same token, so the
	// call is not retried with it and the refusal reaches the caller.
	srv, app = e2eSetup(t, nil)
	sess, err = app.Code2Session(ctx, srv.Login(""))
	require.NoError(t, err)
	require.NoError(t, srv.FailNext(wxauthtest.PathCheckSession, 40001))
	err = app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey)
	require.ErrorIs(t, err, wxauth.ErrInvalidCredential)
	assert.Equal(t, 2, srv.Calls(wxauthtest.PathStableToken))
	assert.Equal(t, 1, srv.Calls(wxauthtest.PathCheckSession))
	require.NoError(t, app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey), "the next call works")
}

func TestE2ETwoInstancesShareOneToken(t *testing.T) {
	t.Parallel()
	srv := wxauthtest.NewServer(e2eAppID, e2eSecret)
	t.Cleanup(srv.Close)
	store := wxauth.NewMemoryTokenStore()
	var toks []string
	for range 2 {
		app, err := wxauth.New(e2eAppID, e2eSecret, wxauth.WithBaseURL(srv.URL),
			wxauth.WithClassicToken(), wxauth.WithTokenStore(store))
		require.NoError(t, err)
		tok, err := app.AccessToken(context.Background())
		require.NoError(t, err)
		toks = append(toks, tok)
	}
	assert.Equal(t, toks[0], toks[1])
	assert.Equal(t, 1, srv.Calls(wxauthtest.PathToken), "the second instance reads the shared token")
}

// TestPhoneNumberNamesTheOpenIDWeChatChecked: a phone number exchanged
// with ForOpenID names that openid (WeChat refuses another user's code);
// one exchanged without names none, since nothing tied it to a user. A
// code of another user, exchanged with this user's openid, is refused.
func TestPhoneNumberNamesTheOpenIDWeChatChecked(t *testing.T) {
	t.Parallel()
	srv, app := e2eSetup(t, nil)
	ctx := context.Background()
	id := srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678", CountryCode: "86"})
	srv.Login(id)

	code, err := srv.PhoneCode(id)
	require.NoError(t, err)
	p, err := app.GetPhoneNumber(ctx, code, wxauth.ForOpenID(id))
	require.NoError(t, err)
	assert.Equal(t, id, p.OpenID)

	code, err = srv.PhoneCode(id)
	require.NoError(t, err)
	p, err = app.GetPhoneNumber(ctx, code)
	require.NoError(t, err)
	assert.Empty(t, p.OpenID, "no openid sent: the number is tied to no one")

	other := srv.AddUser(wxauthtest.User{PurePhoneNumber: "13700000000", CountryCode: "86"})
	srv.Login(other)
	code, err = srv.PhoneCode(other)
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(ctx, code, wxauth.ForOpenID(id))
	assert.ErrorIs(t, err, wxauth.ErrInvalidPhoneCode, "another user's code")
}
