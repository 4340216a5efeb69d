package wxauthtest_test

// Tests of the fake's fidelity to WeChat at the edges: the stable token's
// renewal and force_refresh limits, injected errmsg texts and string
// errcodes, and session keys that expire.

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

func stableBody(force bool) map[string]any {
	return map[string]any{"grant_type": "client_credential", "appid": testAppID, "secret": testSecret, "force_refresh": force}
}

// TestStableTokenRenewsFiveMinutesEarly: normal mode returns the same token
// with its countdown until the last five minutes of its life, then a new
// one, while the old one stays valid until its own expiry.
func TestStableTokenRenewsFiveMinutesEarly(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	check := tokenChecker(t, srv)

	first := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(false))
	require.Equal(t, 7200, first.ExpiresIn)

	clk.Advance(wxauthtest.TokenTTL - wxauthtest.StableTokenRenewal - time.Second)
	same := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(false))
	assert.Equal(t, first.AccessToken, same.AccessToken, "one second before the renewal window")
	assert.Equal(t, 301, same.ExpiresIn, "expires_in counts down")

	clk.Advance(time.Second) // five minutes left: a new token
	next := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(false))
	require.NotEqual(t, first.AccessToken, next.AccessToken)
	assert.Equal(t, 7200, next.ExpiresIn)
	assert.Equal(t, next.AccessToken, srv.AccessToken())
	again := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(false))
	assert.Equal(t, next.AccessToken, again.AccessToken, "the successor is handed out from now on")

	// The two overlap until the old one's own expiry.
	clk.Advance(wxauthtest.StableTokenRenewal - time.Second)
	assert.Equal(t, 0, check(first.AccessToken))
	assert.Equal(t, 0, check(next.AccessToken))
	clk.Advance(time.Second)
	assert.Equal(t, 42001, check(first.AccessToken))
	assert.Equal(t, 0, check(next.AccessToken))
}

// TestStableTokenForceRefreshLimits: force_refresh replaces the token at
// most once in 30 s (sooner, it returns the current one) and 20 times a
// Beijing day; the 21st is errcode 45009.
func TestStableTokenForceRefreshLimits(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t) // 2024-05-01 12:00 UTC is 20:00 in Beijing
	check := tokenChecker(t, srv)
	normal := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(false))

	forced := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(true))
	require.NotEqual(t, normal.AccessToken, forced.AccessToken)
	assert.Equal(t, 40001, check(normal.AccessToken), "a forced refresh invalidates the previous token at once")

	clk.Advance(wxauthtest.ForceRefreshInterval - time.Second)
	soon := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(true))
	assert.Equal(t, forced.AccessToken, soon.AccessToken, "under 30 s after the last, nothing is refreshed")
	assert.Equal(t, 0, check(forced.AccessToken))

	seen := map[string]bool{forced.AccessToken: true}
	for i := 2; i <= wxauthtest.ForceRefreshPerDay; i++ {
		clk.Advance(wxauthtest.ForceRefreshInterval)
		r := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(true))
		require.Zero(t, r.ErrCode, "forced refresh %d", i)
		require.False(t, seen[r.AccessToken], "forced refresh %d issues a new token", i)
		seen[r.AccessToken] = true
	}
	clk.Advance(wxauthtest.ForceRefreshInterval)
	over := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(true))
	assert.Equal(t, 45009, over.ErrCode)
	assert.Contains(t, over.ErrMsg, "reach max api daily quota limit")
	assert.Empty(t, over.AccessToken)
	assert.Zero(t, post(t, srv, wxauthtest.PathStableToken, nil, stableBody(false)).ErrCode, "normal mode is not limited")

	clk.Advance(4 * time.Hour) // past midnight in Beijing
	next := post(t, srv, wxauthtest.PathStableToken, nil, stableBody(true))
	assert.Zero(t, next.ErrCode, next.ErrMsg)
	assert.False(t, seen[next.AccessToken])
}

// rawReply sends a GET to the fake and returns its body.
func rawReply(t *testing.T, srv *wxauthtest.Server, path string) string {
	t.Helper()
	resp, err := testClient().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestFailNextErrMsgAndStringCode: FailNext sends WeChat's own text and, if
// asked, the errcode as a string; the client keeps the text and maps the
// code either way.
func TestFailNextErrMsgAndStringCode(t *testing.T) {
	t.Parallel()
	const ipMsg = "invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist"
	srv, _ := newServer(t)

	require.NoError(t, srv.FailNext(wxauthtest.PathCheckSession, 40164, wxauthtest.WithErrMsg(ipMsg), wxauthtest.WithErrCodeString()))
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(rawReply(t, srv, wxauthtest.PathCheckSession)), &raw))
	assert.Equal(t, "40164", raw["errcode"], "a JSON string")
	assert.Regexp(t, `^`+strings.ReplaceAll(ipMsg, ".", `\.`)+` rid: [0-9a-f-]+$`, raw["errmsg"])

	require.NoError(t, srv.FailNext(wxauthtest.PathCheckSession, 40164, wxauthtest.WithErrMsg(ipMsg+" rid: 6530f3a2-1b2c3d4e-5f6a7b8c")))
	assert.Contains(t, rawReply(t, srv, wxauthtest.PathCheckSession), `"errmsg":"`+ipMsg+` rid: 6530f3a2-1b2c3d4e-5f6a7b8c"`, "a rid of its own is kept")

	for name, opts := range map[string][]wxauthtest.FailOption{
		"number": {wxauthtest.WithErrMsg(ipMsg)},
		"string": {wxauthtest.WithErrMsg(ipMsg), wxauthtest.WithErrCodeString()},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t)
			require.NoError(t, srv.FailNext(wxauthtest.PathStableToken, 40164, opts...))
			_, err := newApp(t, srv).AccessToken(context.Background())
			require.ErrorIs(t, err, wxauth.ErrNotAllowed)
			var ae *wxauth.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 40164, ae.Code)
			assert.Equal(t, ipMsg, ae.Msg, "the errmsg names the IP to whitelist")
			assert.NotEmpty(t, ae.RID)
			assert.Contains(t, err.Error(), "invalid ip 1.2.3.4")
		})
	}
}

// TestSessionKeyExpires: with WithSessionKeyTTL a key stops checking out
// (87009) and cannot be reset (87007) once its time is up; a reset key keeps
// the old key's expiry; a new Login starts afresh.
func TestSessionKeyExpires(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t, wxauthtest.WithSessionKeyTTL(time.Hour))
	tok := srv.AccessToken()
	srv.Login("o1")
	key, err := srv.SessionKey("o1")
	require.NoError(t, err)
	checkCode := func(key string) int {
		return get(t, srv, wxauthtest.PathCheckSession, sessionQuery(tok, "o1", key)).ErrCode
	}

	clk.Advance(30 * time.Minute)
	assert.Equal(t, 0, checkCode(key))
	reset := get(t, srv, wxauthtest.PathResetSessionKey, sessionQuery(tok, "o1", key))
	require.Zero(t, reset.ErrCode)

	clk.Advance(30*time.Minute - time.Second)
	assert.Equal(t, 0, checkCode(reset.SessionKey))
	clk.Advance(time.Second) // an hour after the Login: the reset did not renew the key
	assert.Equal(t, 87009, checkCode(reset.SessionKey))
	r := get(t, srv, wxauthtest.PathResetSessionKey, sessionQuery(tok, "o1", reset.SessionKey))
	assert.Equal(t, 87007, r.ErrCode)
	assert.Contains(t, r.ErrMsg, "session_key")
	assert.Empty(t, r.SessionKey)

	srv.Login("o1")
	fresh, err := srv.SessionKey("o1")
	require.NoError(t, err)
	assert.Equal(t, 0, checkCode(fresh))

	require.NoError(t, srv.ExpireSessionKey("o1"))
	assert.Equal(t, 87009, checkCode(fresh))
	assert.Equal(t, 87007, get(t, srv, wxauthtest.PathResetSessionKey, sessionQuery(tok, "o1", fresh)).ErrCode)
	require.ErrorIs(t, srv.ExpireSessionKey("o-nobody"), wxauthtest.ErrUnknownUser)
	require.ErrorIs(t, srv.ExpireSessionKey(srv.AddUser(wxauthtest.User{})), wxauthtest.ErrNotLoggedIn)

	// Through the client: the sentinel for both.
	app := newApp(t, srv)
	ctx := context.Background()
	require.ErrorIs(t, app.CheckSessionKey(ctx, "o1", fresh), wxauth.ErrSessionKeyExpired)
	_, err = app.ResetSessionKey(ctx, "o1", fresh)
	require.ErrorIs(t, err, wxauth.ErrSessionKeyExpired)
	var ae *wxauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 87007, ae.Code)
}

// TestSessionKeysDoNotExpireByDefault: without WithSessionKeyTTL a key is
// valid until the next Login, however long.
func TestSessionKeysDoNotExpireByDefault(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t)
	srv.Login("o1")
	key, err := srv.SessionKey("o1")
	require.NoError(t, err)
	clk.Advance(30 * 24 * time.Hour)
	tok := srv.AccessToken()
	assert.Equal(t, 0, get(t, srv, wxauthtest.PathCheckSession, sessionQuery(tok, "o1", key)).ErrCode)
}
