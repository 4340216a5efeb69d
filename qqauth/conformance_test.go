package qqauth_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/clienttest"
	"github.com/wxmp/miniauth/qqauth"
	"github.com/wxmp/miniauth/qqauth/qqauthtest"
)

// QQ's client passes the conformance suite against its fake.
func TestConformance(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		fake := qqauthtest.NewServer(testAppID, testSecret)
		t.Cleanup(fake.Close)
		app, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(fake.URL))
		require.NoError(t, err)
		return clienttest.Env{
			Client: app,
			Code: func(t *testing.T) (string, string) {
				openID := fake.AddUser(qqauthtest.User{})
				return fake.Login(openID), openID
			},
			Calls:   func() int { return fake.Calls(qqauthtest.PathCode2Session) },
			Secrets: []string{testSecret},
		}
	})
}
