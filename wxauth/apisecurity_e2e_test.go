package wxauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// securityOf is the client's configuration of the fake's API security mode.
func securityOf(t *testing.T, srv *wxauthtest.Server) wxauth.APISecurity {
	t.Helper()
	k, ok := srv.APISecurity()
	require.True(t, ok)
	return wxauth.APISecurity{KeySN: k.KeySN, Key: k.Key, PrivateKey: k.PrivateKey,
		Certificates: map[string]string{k.CertificateSN: k.Certificate}}
}

func TestE2EAPISecurity(t *testing.T) {
	t.Parallel()
	clock := wxauthtest.NewClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	srv := wxauthtest.NewServer(e2eAppID, e2eSecret, wxauthtest.WithClock(clock.Now), wxauthtest.WithAPISecurity())
	t.Cleanup(srv.Close)
	sec := securityOf(t, srv)
	newApp := func(sec *wxauth.APISecurity, now func() time.Time) *wxauth.App {
		opts := []wxauth.Option{wxauth.WithBaseURL(srv.URL), wxauth.WithRetry(0), wxauth.WithClock(now)}
		if sec != nil {
			opts = append(opts, wxauth.WithAPISecurity(*sec))
		}
		app, err := wxauth.New(e2eAppID, e2eSecret, opts...)
		require.NoError(t, err)
		return app
	}
	ctx := context.Background()
	id := srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678"})
	phoneCode := func() string {
		c, err := srv.PhoneCode(id)
		require.NoError(t, err)
		return c
	}

	// Signed, encrypted, verified and decrypted, both ways.
	app := newApp(&sec, clock.Now)
	p, err := app.GetPhoneNumber(ctx, phoneCode(), wxauth.ForOpenID(id))
	require.NoError(t, err)
	assert.Equal(t, "13912345678", p.PurePhoneNumber)
	srv.Login(id)
	profile, err := srv.Profile(id)
	require.NoError(t, err)
	valid, _, err := app.CheckEncryptedData(ctx, profile.EncryptedData)
	require.NoError(t, err)
	assert.True(t, valid)
	// WeChat's own refusals come back through the mode: a used phone code.
	used := phoneCode()
	_, err = app.GetPhoneNumber(ctx, used)
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(ctx, used)
	require.ErrorIs(t, err, wxauth.ErrInvalidPhoneCode)
	// jscode2session is not wrapped: the login itself works as ever.
	_, err = app.Code2Session(ctx, srv.Login(id))
	require.NoError(t, err)

	// The fake refuses what WeChat refuses, before spending the code.
	otherKey := wxauthtest.NewServer("wx00000000000000aa", "other", wxauthtest.WithAPISecurity())
	t.Cleanup(otherKey.Close)
	wrongKey := sec
	wrongKey.PrivateKey = securityOf(t, otherKey).PrivateKey
	wrongCert := sec
	wrongCert.Certificates = securityOf(t, otherKey).Certificates
	behind := func() time.Time { return clock.Now().Add(-wxauthtest.APISecurityMaxSkew - time.Second) }
	tests := []struct {
		name string
		app  *wxauth.App
		is   error
	}{
		{"plain request", newApp(nil, clock.Now), wxauth.ErrRequestRejected},                 // 934011
		{"signed with another key", newApp(&wrongKey, clock.Now), wxauth.ErrRequestRejected}, // 40234
		{"stale timestamp", newApp(&sec, behind), wxauth.ErrRequestRejected},                 // 40234
		// The reply is signed by a certificate the client does not know.
		{"unknown platform certificate", newApp(&wrongCert, clock.Now), wxauth.ErrAPISecurity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := phoneCode()
			_, err := tt.app.GetPhoneNumber(ctx, code)
			require.ErrorIs(t, err, tt.is)
			if tt.is == wxauth.ErrRequestRejected {
				// Refused before the code was looked at: it still works.
				_, err = app.GetPhoneNumber(ctx, code)
				require.NoError(t, err)
			}
		})
	}
}

func TestE2EAPISecurityCertificateRotation(t *testing.T) {
	t.Parallel()
	srv := wxauthtest.NewServer(e2eAppID, e2eSecret, wxauthtest.WithAPISecurity())
	t.Cleanup(srv.Close)
	old := securityOf(t, srv)
	serial, cert, err := srv.RotatePlatformCertificate()
	require.NoError(t, err)
	fresh := old
	fresh.Certificates = map[string]string{serial: cert}
	both := old
	both.Certificates = map[string]string{serial: cert}
	for sn, c := range old.Certificates {
		both.Certificates[sn] = c
	}
	id := srv.AddUser(wxauthtest.User{})
	for name, sec := range map[string]wxauth.APISecurity{"old only": old, "new only": fresh, "both": both} {
		t.Run(name, func(t *testing.T) {
			app, err := wxauth.New(e2eAppID, e2eSecret, wxauth.WithBaseURL(srv.URL), wxauth.WithAPISecurity(sec))
			require.NoError(t, err)
			code, err := srv.PhoneCode(id)
			require.NoError(t, err)
			_, err = app.GetPhoneNumber(context.Background(), code)
			require.NoError(t, err)
		})
	}
}
