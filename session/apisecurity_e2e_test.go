package session_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// A phone login end to end with WeChat's API security mode on: the phone
// code goes to getuserphonenumber encrypted and signed, the reply comes back
// signed and encrypted, and the login handler sees none of it.
func TestPhoneLoginWithAPISecurity(t *testing.T) {
	t.Parallel()
	fake := wxauthtest.NewServer(testAppID, testSecret, wxauthtest.WithAPISecurity())
	t.Cleanup(fake.Close)
	k, ok := fake.APISecurity()
	require.True(t, ok)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0),
		wxauth.WithAPISecurity(wxauth.APISecurity{KeySN: k.KeySN, Key: k.Key, PrivateKey: k.PrivateKey,
			Certificates: map[string]string{k.CertificateSN: k.Certificate}}))
	require.NoError(t, err)
	var phone *wxauth.PhoneNumber
	h := session.LoginHandler(app, newManager(t, nil), session.WithOnLogin(
		func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
			phone = info.Phone
			info.Subject = "user-1"
			return nil, nil
		}))

	id := fake.AddUser(wxauthtest.User{PurePhoneNumber: "13700001111"})
	code := fake.Login(id)
	phoneCode, err := fake.PhoneCode(id)
	require.NoError(t, err)
	rr := serve(t, h, postLogin(loginBody(t, map[string]string{"code": code, "phoneCode": phoneCode})))
	require.Equal(t, http.StatusOK, rr.Code, rr.Body.String())
	require.NotNil(t, phone)
	assert.Equal(t, "13700001111", phone.PurePhoneNumber)
	assert.Equal(t, 1, fake.Calls(wxauthtest.PathPhoneNumber))

	// Without the mode the same login is refused as WeChat refuses it
	// (934011): a misconfigured server, 500, and the phone code unspent.
	plain, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	phoneCode, err = fake.PhoneCode(id)
	require.NoError(t, err)
	rr = serve(t, session.LoginHandler(plain, newManager(t, nil)),
		postLogin(loginBody(t, map[string]string{"code": fake.Login(id), "phoneCode": phoneCode})))
	assert.Equal(t, http.StatusInternalServerError, rr.Code, rr.Body.String())
	rr = serve(t, h, postLogin(loginBody(t, map[string]string{"code": fake.Login(id), "phoneCode": phoneCode})))
	require.Equal(t, http.StatusOK, rr.Code, "the refused phone code still works: %s", rr.Body.String())
}
