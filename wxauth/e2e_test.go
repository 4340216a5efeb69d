package wxauth_test

// End-to-end tests: wxauth against the fake WeChat of package wxauthtest,
// over real HTTP. Unit tests use httpmock on the client's transport instead.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	e2eAppID  = "wx00000000000000e2"
	e2eSecret = "e2e-secret-0123456789abcdef01234"
)

// e2eSetup starts a fake WeChat for the app and a client of it with short
// retry backoffs.
func e2eSetup(t *testing.T, srvOpts []wxauthtest.Option, opts ...wxauth.Option) (*wxauthtest.Server, *wxauth.App) {
	t.Helper()
	srv := wxauthtest.NewServer(e2eAppID, e2eSecret, srvOpts...)
	t.Cleanup(srv.Close)
	app, err := wxauth.New(e2eAppID, e2eSecret, append([]wxauth.Option{
		wxauth.WithBaseURL(srv.URL), wxauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	return srv, app
}

func TestE2ELoginFlow(t *testing.T) {
	t.Parallel()
	srv, app := e2eSetup(t, nil)
	ctx := context.Background()
	id := srv.AddUser(wxauthtest.User{
		UnionID: "oUnion_e2e", NickName: "张三", Gender: 2, City: "Shenzhen",
		Province: "Guangdong", Country: "China", AvatarURL: "https://example.com/z.png",
	})

	// The mini-program: wx.login, then wx.getUserInfo (whose encryptedData,
	// unlike wx.getUserProfile's, carries openId and unionId).
	code := srv.Login(id)
	profile, err := srv.UserInfo(id)
	require.NoError(t, err)

	// The server: code2session, signature check, decryption.
	sess, err := app.Code2Session(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, id, sess.OpenID)
	assert.Equal(t, "oUnion_e2e", sess.UnionID)
	require.NoError(t, app.VerifySignature(sess.SessionKey, profile.RawData, profile.Signature))
	var user wxauth.UserInfo
	require.NoError(t, app.Decrypt(sess.SessionKey, profile.EncryptedData, profile.IV, &user))
	assert.Equal(t, sess.OpenID, user.OpenID)
	assert.Equal(t, sess.UnionID, user.UnionID)
	assert.Equal(t, "张三", user.NickName)
	assert.Equal(t, 2, user.Gender)
	assert.Equal(t, "Shenzhen", user.City)
	assert.Equal(t, "Guangdong", user.Province)
	assert.Equal(t, "China", user.Country)
	assert.Equal(t, wxauthtest.DefaultLanguage, user.Language)
	assert.Equal(t, "https://example.com/z.png", user.AvatarURL)
	assert.Equal(t, e2eAppID, user.Watermark.AppID)
	assert.NotZero(t, user.Watermark.Timestamp)

	// The code is spent.
	_, err = app.Code2Session(ctx, code)
	require.ErrorIs(t, err, wxauth.ErrCodeUsed)
}

func TestE2ERetries(t *testing.T) {
	t.Parallel()
	type fault struct {
		errcode, status int
	}
	tests := []struct {
		name      string
		faults    []fault
		wantErr   error // nil: success
		wantCalls int
	}{
		{"system busy once", []fault{{errcode: -1}}, nil, 2},
		{"bad gateway once", []fault{{status: http.StatusBadGateway}}, nil, 2},
		{"busy, then 503", []fault{{errcode: -1}, {status: http.StatusServiceUnavailable}}, nil, 3},
		{"busy past the retries", []fault{{errcode: -1}, {errcode: -1}, {errcode: -1}}, wxauth.ErrSystemBusy, 3},
		{"rate limit is not retried", []fault{{errcode: 45011}}, wxauth.ErrRateLimited, 1},
		{"invalid code is not retried", []fault{{errcode: 40029}}, wxauth.ErrInvalidCode, 1},
		{"4xx is not retried", []fault{{status: http.StatusForbidden}}, wxauth.ErrBadResponse, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, app := e2eSetup(t, nil)
			for _, f := range tt.faults {
				if f.status != 0 {
					require.NoError(t, srv.FailNextStatus(wxauthtest.PathCode2Session, f.status))
				} else {
					require.NoError(t, srv.FailNext(wxauthtest.PathCode2Session, f.errcode))
				}
			}
			sess, err := app.Code2Session(context.Background(), srv.Login("o-retry"))
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "o-retry", sess.OpenID)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
			assert.Equal(t, tt.wantCalls, srv.Calls(wxauthtest.PathCode2Session))
		})
	}
}

func TestE2ETimeoutIsNotRetried(t *testing.T) {
	t.Parallel()
	srv, app := e2eSetup(t, []wxauthtest.Option{wxauthtest.WithLatency(time.Minute)},
		wxauth.WithTimeout(100*time.Millisecond))
	_, err := app.Code2Session(context.Background(), srv.Login("o-slow"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, srv.Calls(wxauthtest.PathCode2Session), "the code may have been used: no retry")
}

func TestE2EErrorsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T, srv *wxauthtest.Server) string // returns the code to exchange
		secret  string
		wantErr error
	}{
		{"wrong secret", func(_ *testing.T, srv *wxauthtest.Server) string {
			return srv.Login("o1")
		}, "wrong-secret-0123456789abcdef012", wxauth.ErrInvalidCredential},
		{"blocked user", func(_ *testing.T, srv *wxauthtest.Server) string {
			return srv.Login(srv.AddUser(wxauthtest.User{Blocked: true}))
		}, e2eSecret, wxauth.ErrHighRisk},
		{"rate limited", func(t *testing.T, srv *wxauthtest.Server) string {
			good, err := wxauth.New(e2eAppID, e2eSecret, wxauth.WithBaseURL(srv.URL))
			require.NoError(t, err)
			_, err = good.Code2Session(context.Background(), srv.Login("o1")) // o1's one call this minute
			require.NoError(t, err)
			return srv.Login("o1")
		}, e2eSecret, wxauth.ErrRateLimited},
		{"unknown code", func(*testing.T, *wxauthtest.Server) string {
			return "0123456789abcdefABCDEF0123456789"
		}, e2eSecret, wxauth.ErrInvalidCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := wxauthtest.NewServer(e2eAppID, e2eSecret, wxauthtest.WithRateLimit(1))
			t.Cleanup(srv.Close)
			app, err := wxauth.New(e2eAppID, tt.secret, wxauth.WithBaseURL(srv.URL))
			require.NoError(t, err)
			code := tt.setup(t, srv)
			_, err = app.Code2Session(context.Background(), code)
			require.ErrorIs(t, err, tt.wantErr)
			for _, secret := range []string{tt.secret, e2eSecret, code} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestE2EStaleSessionKey(t *testing.T) {
	t.Parallel()
	srv, app := e2eSetup(t, nil)
	ctx := context.Background()
	id := srv.AddUser(wxauthtest.User{NickName: "Stale"})

	// The mini-program logs in and fetches its profile, then logs in again
	// (a second wx.login, say on a page reload) before posting the profile
	// with the new code: the profile no longer matches the session_key.
	srv.Login(id)
	profile, err := srv.Profile(id)
	require.NoError(t, err)
	sess, err := app.Code2Session(ctx, srv.Login(id))
	require.NoError(t, err)

	var user wxauth.UserInfo
	err = app.Decrypt(sess.SessionKey, profile.EncryptedData, profile.IV, &user)
	require.ErrorIs(t, err, crypto.ErrDecrypt)
	assert.NotContains(t, err.Error(), sess.SessionKey)
	require.ErrorIs(t, app.VerifySignature(sess.SessionKey, profile.RawData, profile.Signature), crypto.ErrSignature)
}

func TestE2EWatermarkOfAnotherApp(t *testing.T) {
	t.Parallel()
	other := wxauthtest.NewServer("wx0ther0000000000", "other-secret")
	t.Cleanup(other.Close)
	other.Login("o1")
	key, err := other.SessionKey("o1")
	require.NoError(t, err)
	profile, err := other.Profile("o1")
	require.NoError(t, err)

	_, app := e2eSetup(t, nil)
	var user wxauth.UserInfo
	require.ErrorIs(t, app.Decrypt(key, profile.EncryptedData, profile.IV, &user), wxauth.ErrWatermark)
}

func TestE2ECheckEncryptedData(t *testing.T) {
	t.Parallel()
	clock := wxauthtest.NewClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	srv, app := e2eSetup(t, []wxauthtest.Option{wxauthtest.WithClock(clock.Now)}, wxauth.WithClock(clock.Now))
	ctx := context.Background()
	id := srv.AddUser(wxauthtest.User{City: "Shenzhen"})
	srv.Login(id)
	profile, err := srv.Profile(id)
	require.NoError(t, err)
	made := clock.Now()

	valid, createdAt, err := app.CheckEncryptedData(ctx, profile.EncryptedData)
	require.NoError(t, err)
	assert.True(t, valid)
	assert.True(t, made.Equal(createdAt), "created at %v, want %v", createdAt, made)

	// A forged ciphertext (one byte of the base64 changed), and data the fake
	// never made, are unknown to WeChat.
	forged := []byte(profile.EncryptedData)
	forged[10] ^= 0x01
	for _, data := range []string{string(forged), "bm90IG1hZGUgYnkgV2VDaGF0"} {
		valid, createdAt, err = app.CheckEncryptedData(ctx, data)
		require.NoError(t, err)
		assert.False(t, valid)
		assert.True(t, createdAt.IsZero())
	}

	// Three days later WeChat no longer vouches for it.
	clock.Advance(wxauthtest.EncryptedDataTTL - time.Second)
	valid, _, err = app.CheckEncryptedData(ctx, profile.EncryptedData)
	require.NoError(t, err)
	assert.True(t, valid, "still within three days")
	clock.Advance(time.Second)
	valid, _, err = app.CheckEncryptedData(ctx, profile.EncryptedData)
	require.NoError(t, err)
	assert.False(t, valid, "three days old")
	assert.Equal(t, 5, srv.Calls(wxauthtest.PathCheckEncrypted))
}
