package douyinauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func rsaEncrypt(t *testing.T, plain []byte) []byte {
	t.Helper()
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &testKey().PublicKey, plain)
	require.NoError(t, err)
	return ct
}

func TestGetPhoneNumber(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	openid := srv.AddUser(douyinauthtest.User{PhoneNumber: "+852 51234567", PurePhoneNumber: "51234567", CountryCode: "852"})
	code, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	ctx := context.Background()
	p, err := app.GetPhoneNumber(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, "+852 51234567", p.PhoneNumber)
	assert.Equal(t, "51234567", p.PurePhoneNumber)
	assert.Equal(t, "852", p.CountryCode)
	assert.Equal(t, testAppID, p.Watermark.AppID)

	// Once only.
	_, err = app.GetPhoneNumber(ctx, code)
	assert.ErrorIs(t, err, douyinauth.ErrInvalidPhoneCode)
	// An unknown code.
	_, err = app.GetPhoneNumber(ctx, "0123456789abcdef")
	assert.ErrorIs(t, err, douyinauth.ErrInvalidPhoneCode)
	// A login code is not a phone code.
	_, err = app.GetPhoneNumber(ctx, srv.Login(openid))
	assert.ErrorIs(t, err, douyinauth.ErrInvalidPhoneCode)
	assert.Equal(t, 1, srv.Calls(douyinauthtest.PathClientToken), "one client_token serves every call")
}

func TestPhoneCodeExpires(t *testing.T) {
	t.Parallel()
	clock := douyinauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	srv, app := setup(t, []douyinauthtest.Option{douyinauthtest.WithClock(clock.Now)}, douyinauth.WithClock(clock.Now))
	openid := srv.AddUser(douyinauthtest.User{})
	code, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	clock.Advance(douyinauthtest.CodeTTL)
	_, err = app.GetPhoneNumber(context.Background(), code)
	var ae *douyinauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, int64(28005187), ae.Code)
	assert.ErrorIs(t, err, douyinauth.ErrInvalidPhoneCode)
}

func TestPhoneWithoutPrivateKey(t *testing.T) {
	t.Parallel()
	srv := douyinauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(srv.Close)
	app, err := douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	openid := srv.AddUser(douyinauthtest.User{})
	code, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(context.Background(), code)
	assert.ErrorIs(t, err, douyinauth.ErrNoPrivateKey)
	assert.Zero(t, srv.Calls(douyinauthtest.PathPhoneNumber)+srv.Calls(douyinauthtest.PathClientToken), "no request, the code is not spent")

	// With the fake's own key pair the same code works.
	app, err = douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL), douyinauth.WithPrivateKey(srv.PrivateKey()))
	require.NoError(t, err)
	p, err := app.GetPhoneNumber(context.Background(), code)
	require.NoError(t, err)
	assert.Equal(t, douyinauthtest.DefaultPhoneNumber, p.PhoneNumber)
}

func TestPhoneWithTheWrongKey(t *testing.T) {
	t.Parallel()
	srv := douyinauthtest.NewServer(testAppID, testSecret) // its own key pair
	t.Cleanup(srv.Close)
	app, err := douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL), douyinauth.WithPrivateKey(privatePEM(t)))
	require.NoError(t, err)
	code, err := srv.PhoneCode(srv.AddUser(douyinauthtest.User{}))
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(context.Background(), code)
	assert.ErrorIs(t, err, douyinauth.ErrBadResponse)
	assert.Contains(t, err.Error(), "应用公钥")
}

// TestPhoneReplyChecks: replies whose data cannot be used.
func TestPhoneReplyChecks(t *testing.T) {
	t.Parallel()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	otherCT, err := rsa.EncryptPKCS1v15(rand.Reader, &other.PublicKey, []byte(`{"phoneNumber":"1"}`))
	require.NoError(t, err)
	tests := map[string]struct {
		data string
		want error
	}{
		"empty":          {"", douyinauth.ErrBadResponse},
		"not base64":     {"%%%", douyinauth.ErrBadResponse},
		"short":          {base64.StdEncoding.EncodeToString([]byte("abc")), douyinauth.ErrBadResponse},
		"other key":      {base64.StdEncoding.EncodeToString(otherCT), douyinauth.ErrBadResponse},
		"not JSON":       {encryptPhone(t, "13800138000"), douyinauth.ErrBadResponse},
		"no number":      {encryptPhone(t, `{"countryCode":"86"}`), douyinauth.ErrBadResponse},
		"other app":      {encryptPhone(t, `{"phoneNumber":"1","watermark":{"appid":"tt-other"}}`), douyinauth.ErrWatermark},
		"two blocks, ok": {base64.StdEncoding.EncodeToString(append(rsaEncrypt(t, []byte(`{"phoneNumber":"138`)), rsaEncrypt(t, []byte(`00138000"}`))...)), nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := mockApp(t, func(r *http.Request) (int, string) {
				if r.URL.Path == "/oauth/client_token/" {
					return 200, `{"data":{"access_token":"clt.x","error_code":0,"expires_in":7200},"message":"success"}`
				}
				return 200, `{"err_no":0,"err_msg":"","log_id":"L","data":"` + tt.data + `"}`
			})
			p, err := app.GetPhoneNumber(context.Background(), "code")
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "13800138000", p.PhoneNumber)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, p)
		})
	}
}

// TestClientTokenRenewal follows the documented rule: renewed before it
// expires, and a refused token fetched anew once.
func TestClientTokenRenewal(t *testing.T) {
	t.Parallel()
	clock := douyinauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	srv, app := setup(t, []douyinauthtest.Option{douyinauthtest.WithClock(clock.Now)}, douyinauth.WithClock(clock.Now))
	openid := srv.AddUser(douyinauthtest.User{})
	ctx := context.Background()
	phone := func() error {
		code, err := srv.PhoneCode(openid)
		require.NoError(t, err)
		_, err = app.GetPhoneNumber(ctx, code)
		return err
	}
	require.NoError(t, phone())
	require.NoError(t, phone())
	assert.Equal(t, 1, srv.Calls(douyinauthtest.PathClientToken))

	// A refused token (28001008) is dropped and the call made once more.
	require.NoError(t, srv.FailNext(douyinauthtest.PathPhoneNumber, 28001008))
	require.NoError(t, phone())
	assert.Equal(t, 2, srv.Calls(douyinauthtest.PathClientToken))

	// In the last fifth (at most 4 min 50 s) of its life the token is
	// renewed in the background; the old one serves meanwhile.
	clock.Advance(douyinauthtest.TokenTTL - 4*time.Minute)
	require.NoError(t, phone())
	require.Eventually(t, func() bool { return srv.Calls(douyinauthtest.PathClientToken) == 3 }, 5*time.Second, time.Millisecond)
	require.NoError(t, phone())

	// Past its expiry a token is not used: callers wait for a new one.
	clock.Advance(douyinauthtest.TokenTTL)
	require.NoError(t, phone())
	assert.Equal(t, 4, srv.Calls(douyinauthtest.PathClientToken))
}

func TestStableClientToken(t *testing.T) {
	t.Parallel()
	clock := douyinauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	srv, app := setup(t, []douyinauthtest.Option{douyinauthtest.WithClock(clock.Now)},
		douyinauth.WithClock(clock.Now), douyinauth.WithStableClientToken())
	openid := srv.AddUser(douyinauthtest.User{})
	phone := func() error {
		code, err := srv.PhoneCode(openid)
		require.NoError(t, err)
		_, err = app.GetPhoneNumber(context.Background(), code)
		return err
	}
	require.NoError(t, phone())
	assert.Equal(t, 1, srv.Calls(douyinauthtest.PathStableClientToken))
	assert.Zero(t, srv.Calls(douyinauthtest.PathClientToken))
	// Near expiry the same token comes back: it is kept to its expiry, not
	// asked for at every call.
	clock.Advance(douyinauthtest.TokenTTL - time.Minute)
	for range 5 {
		require.NoError(t, phone())
	}
	require.Eventually(t, func() bool { return srv.Calls(douyinauthtest.PathStableClientToken) == 2 }, 5*time.Second, time.Millisecond)
	for range 5 {
		require.NoError(t, phone())
	}
	assert.Equal(t, 2, srv.Calls(douyinauthtest.PathStableClientToken))
	clock.Advance(time.Minute)
	require.NoError(t, phone())
	assert.Equal(t, 3, srv.Calls(douyinauthtest.PathStableClientToken))
}

// TestConcurrentPhones: many goroutines, one client_token fetch.
func TestConcurrentPhones(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, []douyinauthtest.Option{douyinauthtest.WithLatency(5 * time.Millisecond)})
	const n = 50
	codes := make([]string, n)
	for i := range codes {
		var err error
		codes[i], err = srv.PhoneCode(srv.AddUser(douyinauthtest.User{}))
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, c := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := app.GetPhoneNumber(context.Background(), c)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Calls(douyinauthtest.PathClientToken))
}

// TestTokenFetchFails: a client_token refused is the caller's error, with
// its sentinel, and the phone code is not spent.
func TestTokenFetchFails(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	openid := srv.AddUser(douyinauthtest.User{})
	code, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	require.NoError(t, srv.FailNext(douyinauthtest.PathClientToken, 10013))
	_, err = app.GetPhoneNumber(context.Background(), code)
	assert.ErrorIs(t, err, douyinauth.ErrInvalidCredential)
	assert.NotErrorIs(t, err, douyinauth.ErrInvalidPhoneCode)
	assert.Zero(t, srv.Calls(douyinauthtest.PathPhoneNumber))
	p, err := app.GetPhoneNumber(context.Background(), code)
	require.NoError(t, err)
	assert.NotEmpty(t, p.PhoneNumber)
}

func TestDecryptAndSignature(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	openid := srv.AddUser(douyinauthtest.User{NickName: "小明"})
	s, err := app.Code2Session(context.Background(), srv.Login(openid))
	require.NoError(t, err)
	prof, err := srv.Profile(openid)
	require.NoError(t, err)
	require.NoError(t, app.VerifySignature(s.SessionKey, prof.RawData, prof.Signature))
	assert.Error(t, app.VerifySignature(s.SessionKey, prof.RawData+" ", prof.Signature))
	var info struct {
		OpenID   string `json:"openId"`
		NickName string `json:"nickName"`
	}
	require.NoError(t, app.Decrypt(s.SessionKey, prof.EncryptedData, prof.IV, &info))
	assert.Equal(t, openid, info.OpenID)
	assert.Equal(t, "小明", info.NickName)

	// Data of another app: the watermark says so, v is untouched.
	other := douyinauthtest.NewServer("tt-other-app", testSecret)
	t.Cleanup(other.Close)
	oid := other.AddUser(douyinauthtest.User{})
	other.Login(oid)
	key, err := other.SessionKey(oid)
	require.NoError(t, err)
	foreign, err := other.Profile(oid)
	require.NoError(t, err)
	var again struct{ NickName string }
	assert.ErrorIs(t, app.Decrypt(key, foreign.EncryptedData, foreign.IV, &again), douyinauth.ErrWatermark)
	assert.Empty(t, again.NickName)
	assert.Error(t, app.Decrypt(key, foreign.EncryptedData, foreign.IV, info), "not a pointer")

	var _ miniauth.Decrypter = app
}

// TestWithAppPublicKeyPKCS1 checks the fake takes an "RSA PUBLIC KEY" too.
func TestWithAppPublicKeyPKCS1(t *testing.T) {
	t.Parallel()
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&testKey().PublicKey)}))
	srv := douyinauthtest.NewServer(testAppID, testSecret, douyinauthtest.WithAppPublicKey(pub))
	t.Cleanup(srv.Close)
	assert.Empty(t, srv.PrivateKey(), "the test holds the private key")
	app, err := douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL), douyinauth.WithPrivateKey(privatePEM(t)))
	require.NoError(t, err)
	code, err := srv.PhoneCode(srv.AddUser(douyinauthtest.User{}))
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(context.Background(), code)
	require.NoError(t, err)
}

// TestBackgroundRefreshFailure: a renewal that fails while the token is
// still valid is not repeated at every call.
func TestBackgroundRefreshFailure(t *testing.T) {
	t.Parallel()
	clock := douyinauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	srv, app := setup(t, []douyinauthtest.Option{douyinauthtest.WithClock(clock.Now)}, douyinauth.WithClock(clock.Now))
	openid := srv.AddUser(douyinauthtest.User{})
	phone := func() error {
		code, err := srv.PhoneCode(openid)
		require.NoError(t, err)
		_, err = app.GetPhoneNumber(context.Background(), code)
		return err
	}
	require.NoError(t, phone())
	for range 10 {
		require.NoError(t, srv.FailNext(douyinauthtest.PathClientToken, 28001005))
	}
	clock.Advance(douyinauthtest.TokenTTL - time.Minute)
	for range 20 {
		require.NoError(t, phone(), "the valid token serves while its renewal fails")
	}
	// The first renewal was retried by the engine (28001005 is "busy"):
	// three attempts, then nothing until the gap has passed.
	require.Eventually(t, func() bool { return srv.Calls(douyinauthtest.PathClientToken) == 4 }, 5*time.Second, time.Millisecond)
	for range 20 {
		require.NoError(t, phone())
	}
	assert.Equal(t, 4, srv.Calls(douyinauthtest.PathClientToken))
	clock.Advance(10 * time.Second)
	require.NoError(t, phone())
	require.Eventually(t, func() bool { return srv.Calls(douyinauthtest.PathClientToken) == 7 }, 5*time.Second, time.Millisecond)
}
