package clienttest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/clienttest"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// WeChat's client passes the suite against its fake.
func TestWeChat(t *testing.T) {
	const appID, secret = "wx4f4bc4dec97d474b", "app-secret-for-clienttest-0123456"
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		fake := wxauthtest.NewServer(appID, secret)
		t.Cleanup(fake.Close)
		app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(fake.URL))
		require.NoError(t, err)
		return clienttest.Env{
			Client: app,
			Code: func(t *testing.T) (string, string) {
				openID := fake.AddUser(wxauthtest.User{})
				return fake.Login(openID), openID
			},
			Calls:   func() int { return fake.Calls("/sns/jscode2session") },
			Secrets: []string{secret},
		}
	})
}
