package douyinauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	good := privatePEM(t)
	tests := map[string]struct {
		appID, secret string
		opts          []douyinauth.Option
	}{
		"empty appid":        {"", testSecret, nil},
		"appid not ascii":    {"tt 1\n", testSecret, nil},
		"empty secret":       {testAppID, "", nil},
		"relative base URL":  {testAppID, testSecret, []douyinauth.Option{douyinauth.WithBaseURL("/x")}},
		"base URL query":     {testAppID, testSecret, []douyinauth.Option{douyinauth.WithBaseURL("http://h/?secret=x")}},
		"nil http client":    {testAppID, testSecret, []douyinauth.Option{douyinauth.WithHTTPClient(nil)}},
		"zero timeout":       {testAppID, testSecret, []douyinauth.Option{douyinauth.WithTimeout(0)}},
		"negative retries":   {testAppID, testSecret, []douyinauth.Option{douyinauth.WithRetry(-1)}},
		"bad backoff":        {testAppID, testSecret, []douyinauth.Option{douyinauth.WithBackoff(2, 1)}},
		"nil logger":         {testAppID, testSecret, []douyinauth.Option{douyinauth.WithLogger(nil)}},
		"nil clock":          {testAppID, testSecret, []douyinauth.Option{douyinauth.WithClock(nil)}},
		"empty key":          {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey("")}},
		"garbage key":        {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey("not a key at all")}},
		"truncated PEM":      {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey(good[:len(good)/2])}},
		"1024-bit key":       {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey(smallPEM)}},
		"EC key":             {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey(ecPEM)}},
		"public key":         {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey(publicPEM(t))}},
		"PEM with trailing":  {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey(good + "junk")}},
		"encrypted PEM":      {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey(encryptedPEM(t))}},
		"base64 of nonsense": {testAppID, testSecret, []douyinauth.Option{douyinauth.WithPrivateKey(base64.StdEncoding.EncodeToString([]byte("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")))}},
	}
	for name, tt := range tests {
		app, err := douyinauth.New(tt.appID, tt.secret, tt.opts...)
		require.Error(t, err, name)
		assert.Nil(t, app, name)
		assert.True(t, strings.HasPrefix(err.Error(), "douyinauth: "), name)
		assert.NotContains(t, err.Error(), "MII", name+": the key is never quoted")
		assert.NotContains(t, err.Error(), "secret=x", name)
	}
}

func encryptedPEM(t *testing.T) string {
	b := &pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"},
		Bytes: x509.MarshalPKCS1PrivateKey(testKey())}
	return string(pem.EncodeToMemory(b))
}

// TestPrivateKeyForms checks every form WithPrivateKey takes by decrypting
// a phone number with it.
func TestPrivateKeyForms(t *testing.T) {
	t.Parallel()
	k := testKey()
	pkcs1 := x509.MarshalPKCS1PrivateKey(k)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	wrapped := base64.StdEncoding.EncodeToString(pkcs8)
	var lines []string
	for len(wrapped) > 64 {
		lines, wrapped = append(lines, wrapped[:64]), wrapped[64:]
	}
	lines = append(lines, wrapped)
	forms := map[string]string{
		"PKCS#1 PEM":            string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1})),
		"PKCS#8 PEM":            string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"bare PKCS#1":           base64.StdEncoding.EncodeToString(pkcs1),
		"bare PKCS#8 wrapped":   strings.Join(lines, "\r\n") + "\n",
		"PEM with blank around": "\n\n" + privatePEM(t) + "\n  ",
	}
	for name, key := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, app := setup(t, nil, douyinauth.WithPrivateKey(key))
			openid := srv.AddUser(douyinauthtest.User{PurePhoneNumber: "13912345678"})
			code, err := srv.PhoneCode(openid)
			require.NoError(t, err)
			p, err := app.GetPhoneNumber(context.Background(), code)
			require.NoError(t, err)
			assert.Equal(t, "13912345678", p.PurePhoneNumber)
		})
	}
}

func TestAppIsItsOwnApps(t *testing.T) {
	t.Parallel()
	_, app := setup(t, nil)
	assert.Equal(t, miniauth.Douyin, app.Platform())
	assert.Equal(t, testAppID, app.AppID())
	for _, id := range []string{"", testAppID} {
		c, err := app.App(context.Background(), id)
		require.NoError(t, err)
		assert.Same(t, app, c)
	}
	_, err := app.App(context.Background(), "tt-other")
	assert.ErrorIs(t, err, douyinauth.ErrUnknownApp)
	set, err := miniauth.NewApps(app)
	require.NoError(t, err)
	c, err := set.AppOn(context.Background(), miniauth.Douyin, testAppID)
	require.NoError(t, err)
	assert.Same(t, app, c)
}

func TestAppNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	_, app := setup(t, nil)
	keyB64 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(testKey()))[:40]
	for _, out := range []string{
		fmt.Sprint(app), fmt.Sprintf("%v %+v %#v %s %q %x", app, app, app, app, app, app),
		fmt.Sprintf("%+v %#v", *app, *app),
	} {
		assert.NotContains(t, out, testSecret)
		assert.NotContains(t, out, keyB64)
		assert.NotContains(t, out, "PRIVATE")
		assert.Contains(t, out, testAppID)
	}
}

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	e := &douyinauth.APIError{Op: "jscode2session", Code: 40018, Msg: "bad code", LogID: "2024X"}
	assert.Equal(t, "douyinauth: jscode2session: err_no 40018: bad code (log_id: 2024X)", e.Error())
	assert.ErrorIs(t, e, douyinauth.ErrInvalidCode)
	e2 := &douyinauth.APIError{Op: "client_token", Code: 10013}
	assert.Equal(t, "douyinauth: client_token: error_code 10013", e2.Error())
	assert.ErrorIs(t, e2, douyinauth.ErrInvalidCredential)
	// 40018 means "bad code" on developer.toutiao.com only.
	assert.False(t, errors.Is(&douyinauth.APIError{Op: "get_phonenumber_info", Code: 40018}, douyinauth.ErrInvalidCode))
	// open.douyin.com's status codes are not jscode2session's.
	assert.False(t, errors.Is(&douyinauth.APIError{Op: "jscode2session", Code: 28001005}, douyinauth.ErrSystemBusy))
}
