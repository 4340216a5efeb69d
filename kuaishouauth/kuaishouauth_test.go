package kuaishouauth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/clienttest"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/kuaishouauth"
	"github.com/wxmp/miniauth/kuaishouauth/kuaishouauthtest"
	"github.com/wxmp/miniauth/wxauth"
)

const (
	testAppID  = "ks671234567890123456"
	testSecret = "ks-secret-0123456789abcdef"
)

func newPair(t *testing.T, opts ...kuaishouauth.Option) (*kuaishouauthtest.Server, *kuaishouauth.App) {
	t.Helper()
	srv := kuaishouauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(srv.Close)
	opts = append([]kuaishouauth.Option{kuaishouauth.WithBaseURL(srv.URL), kuaishouauth.WithBackoff(time.Millisecond, 2*time.Millisecond)}, opts...)
	app, err := kuaishouauth.New(testAppID, testSecret, opts...)
	require.NoError(t, err)
	return srv, app
}

// Kuaishou's client passes the conformance suite against its fake.
func TestConformance(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		fake := kuaishouauthtest.NewServer(testAppID, testSecret)
		t.Cleanup(fake.Close)
		app, err := kuaishouauth.New(testAppID, testSecret, kuaishouauth.WithBaseURL(fake.URL))
		require.NoError(t, err)
		return clienttest.Env{
			Client: app,
			Code: func(t *testing.T) (string, string) {
				openID := fake.AddUser(kuaishouauthtest.User{})
				return fake.Login(openID), openID
			},
			Calls:   func() int { return fake.Calls(kuaishouauthtest.PathCode2Session) },
			Secrets: []string{testSecret},
		}
	})
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name          string
		appID, secret string
		opts          []kuaishouauth.Option
		want          string
	}{
		{"empty appid", "", testSecret, nil, "appID"},
		{"appid with a space", "ks 1", testSecret, nil, "appID"},
		{"appid with a colon", "ks:1", testSecret, nil, "appID"},
		{"empty secret", testAppID, "", nil, "secret"},
		{"secret with a newline", testAppID, "a\nb", nil, "secret"},
		{"bad base URL", testAppID, testSecret, []kuaishouauth.Option{kuaishouauth.WithBaseURL("ftp://h")}, "base URL"},
		{"nil http client", testAppID, testSecret, []kuaishouauth.Option{kuaishouauth.WithHTTPClient(nil)}, "http client"},
		{"zero timeout", testAppID, testSecret, []kuaishouauth.Option{kuaishouauth.WithTimeout(0)}, "timeout"},
		{"too many retries", testAppID, testSecret, []kuaishouauth.Option{kuaishouauth.WithRetry(11)}, "retries"},
		{"nil token store", testAppID, testSecret, []kuaishouauth.Option{kuaishouauth.WithTokenStore(nil)}, "token store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := kuaishouauth.New(tt.appID, tt.secret, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, app)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "kuaishouauth: "), err.Error())
		})
	}
}

func TestCode2Session(t *testing.T) {
	srv, app := newPair(t)
	openID := srv.AddUser(kuaishouauthtest.User{})
	code := srv.Login(openID)
	sess, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err)
	key, err := srv.SessionKey(openID)
	require.NoError(t, err)
	assert.Equal(t, &miniauth.Session{Platform: miniauth.Kuaishou, AppID: testAppID, OpenID: openID, SessionKey: key}, sess)

	_, err = app.Code2Session(context.Background(), code)
	assert.ErrorIs(t, err, miniauth.ErrInvalidCode)
	var ae *kuaishouauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, kuaishouauthtest.ResultInvalidGrant, ae.Code)
}

func TestCode2SessionErrors(t *testing.T) {
	tests := []struct {
		name   string
		result int
		want   error
		calls  int
	}{
		{"internal error is not retried: the code may be spent", 100200500, miniauth.ErrSystemBusy, 1},
		{"rate limited", 100200410, miniauth.ErrRateLimited, 1},
		{"bad app", 100200101, miniauth.ErrInvalidCredential, 1},
		{"bad request", 100200100, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, app := newPair(t)
			code := srv.Login("")
			require.NoError(t, srv.FailNext(kuaishouauthtest.PathCode2Session, tt.result))
			_, err := app.Code2Session(context.Background(), code)
			require.Error(t, err)
			assert.Equal(t, tt.calls, srv.Calls(kuaishouauthtest.PathCode2Session))
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			} else {
				for _, s := range []error{miniauth.ErrInvalidCode, miniauth.ErrInvalidCredential, miniauth.ErrSystemBusy} {
					assert.False(t, errors.Is(err, s))
				}
			}
			var ae *kuaishouauth.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.result, ae.Code)
		})
	}
	srv, app := newPair(t)
	require.NoError(t, srv.FailNextStatus(kuaishouauthtest.PathCode2Session, http.StatusServiceUnavailable))
	_, err := app.Code2Session(context.Background(), srv.Login(""))
	require.NoError(t, err, "a 503 is retried")
	assert.Equal(t, 2, srv.Calls(kuaishouauthtest.PathCode2Session))
}

func TestWrongSecretAtTheFake(t *testing.T) {
	srv := kuaishouauthtest.NewServer(testAppID, testSecret)
	defer srv.Close()
	app, err := kuaishouauth.New(testAppID, "another-secret-value", kuaishouauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = app.Code2Session(context.Background(), srv.Login(""))
	assert.ErrorIs(t, err, miniauth.ErrInvalidCredential)
	_, err = app.AccessToken(context.Background())
	assert.ErrorIs(t, err, miniauth.ErrInvalidCredential)
}

func TestSecretsStayOut(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, app := newPair(t, kuaishouauth.WithLogger(logger))
	code := srv.Login("")
	require.NoError(t, srv.FailNext(kuaishouauthtest.PathCode2Session, 100200100, "bad js_code="+code+" app_secret="+testSecret))
	_, err := app.Code2Session(context.Background(), code)
	require.Error(t, err)
	srv.Close()
	_, err2 := app.Code2Session(context.Background(), code)
	require.Error(t, err2)
	_, err3 := app.AccessToken(context.Background())
	require.Error(t, err3)
	for _, text := range []string{err.Error(), err2.Error(), fmt.Sprintf("%+v %#v", err2, err2), err3.Error(), logs.String(),
		fmt.Sprintf("%v %#v %+v %s", app, app, *app, app)} {
		assert.NotContains(t, text, testSecret)
		assert.NotContains(t, text, code)
	}
}

func TestDecrypt(t *testing.T) {
	srv, app := newPair(t)
	id := srv.AddUser(kuaishouauthtest.User{NickName: "老铁", PurePhoneNumber: "13912345678"})
	sess, err := app.Code2Session(context.Background(), srv.Login(id))
	require.NoError(t, err)

	p, err := srv.Profile(id)
	require.NoError(t, err)
	require.NoError(t, app.VerifySignature(sess.SessionKey, p.RawData, p.Signature))
	assert.ErrorIs(t, app.VerifySignature(sess.SessionKey, p.RawData, strings.Repeat("0", 40)), crypto.ErrSignature)
	var u kuaishouauth.UserInfo
	require.NoError(t, app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &u))
	assert.Equal(t, "老铁", u.NickName)
	assert.Equal(t, id, u.OpenID)

	ph, err := srv.PhoneNumber(id)
	require.NoError(t, err)
	var phone miniauth.PhoneNumber
	require.NoError(t, app.Decrypt(sess.SessionKey, ph.EncryptedData, ph.IV, &phone))
	assert.Equal(t, "13912345678", phone.PurePhoneNumber)
	assert.Equal(t, "86", phone.CountryCode)

	// No watermark: accepted (Kuaishou's page shows none).
	iv := "AAAAAAAAAAAAAAAAAAAAAA=="
	enc, err := crypto.Encrypt(sess.SessionKey, iv, []byte(`{"phoneNumber":"13700000000","purePhoneNumber":"13700000000","countryCode":"86"}`))
	require.NoError(t, err)
	require.NoError(t, app.Decrypt(sess.SessionKey, enc, iv, &phone))
	assert.Equal(t, "13700000000", phone.PurePhoneNumber)

	// Another app's watermark: refused, v untouched.
	enc, err = crypto.Encrypt(sess.SessionKey, iv, []byte(`{"purePhoneNumber":"1","watermark":{"appid":"ks999","timestamp":1}}`))
	require.NoError(t, err)
	assert.ErrorIs(t, app.Decrypt(sess.SessionKey, enc, iv, &phone), miniauth.ErrWatermark)
	assert.Equal(t, "13700000000", phone.PurePhoneNumber)

	assert.ErrorIs(t, app.Decrypt(sess.SessionKey, "AAAA"+ph.EncryptedData[4:], ph.IV, &phone), crypto.ErrDecrypt)
	assert.Error(t, app.Decrypt(sess.SessionKey, ph.EncryptedData, ph.IV, phone))
}

func TestAccessToken(t *testing.T) {
	srv, app := newPair(t)
	var wg sync.WaitGroup
	toks := make([]string, 40)
	for i := range toks {
		wg.Go(func() {
			tok, err := app.AccessToken(context.Background())
			assert.NoError(t, err)
			toks[i] = tok
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.TokensIssued())
	assert.True(t, srv.TokenValid(toks[0]))
	for _, tok := range toks {
		assert.Equal(t, toks[0], tok)
	}
	app.InvalidateAccessToken(context.Background(), toks[0])
	fresh, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, toks[0], fresh)
	assert.True(t, srv.TokenValid(toks[0]), "Kuaishou keeps the old token valid")
}

type downStore struct{}

var errDown = errors.New("store down")

func (downStore) Load(context.Context, string) (*wxauth.Token, error) { return nil, errDown }
func (downStore) Delete(context.Context, string, string) error        { return errDown }
func (downStore) TryLock(context.Context, string, time.Duration) (wxauth.TokenLease, bool, error) {
	return nil, false, errDown
}

func TestAccessTokenWithoutTheStore(t *testing.T) {
	srv, app := newPair(t, kuaishouauth.WithTokenStore(downStore{}))
	tok, err := app.AccessToken(context.Background())
	require.NoError(t, err, "old tokens stay valid, so a fetch of one's own is safe")
	assert.True(t, srv.TokenValid(tok))
}

func TestAccessTokenRetriesInternalError(t *testing.T) {
	srv, app := newPair(t)
	require.NoError(t, srv.FailNext(kuaishouauthtest.PathAccessToken, 100200500))
	tok, err := app.AccessToken(context.Background())
	require.NoError(t, err)
	assert.True(t, srv.TokenValid(tok))
	assert.Equal(t, 2, srv.Calls(kuaishouauthtest.PathAccessToken))
}

func TestApps(t *testing.T) {
	_, app := newPair(t)
	c, err := app.App(context.Background(), "")
	require.NoError(t, err)
	assert.Same(t, app, c)
	_, err = app.App(context.Background(), "ks-other")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
	assert.Equal(t, "kuaishouauth: code2session: result 100200105: invalid js_code",
		(&kuaishouauth.APIError{Op: "code2session", Code: 100200105, Msg: "invalid js_code"}).Error())
}
