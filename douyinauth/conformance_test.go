package douyinauth_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/clienttest"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

// Douyin's client passes the conformance suite of miniauth.Client against
// its fake.
func TestConformance(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		srv, app := setup(t, nil)
		return clienttest.Env{
			Client: app,
			Code: func(t *testing.T) (string, string) {
				openID := srv.AddUser(douyinauthtest.User{})
				return srv.Login(openID), openID
			},
			Calls:   func() int { return srv.Calls(douyinauthtest.PathCode2Session) },
			Secrets: []string{testSecret, privatePEM(t)[40:120]},
		}
	})
}

// TestConformanceWithoutKey: the client without a private key passes too.
func TestConformanceWithoutKey(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		srv := douyinauthtest.NewServer(testAppID, testSecret)
		t.Cleanup(srv.Close)
		app, err := douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL))
		require.NoError(t, err)
		return clienttest.Env{
			Client: app,
			Code: func(t *testing.T) (string, string) {
				openID := srv.AddUser(douyinauthtest.User{})
				return srv.Login(openID), openID
			},
			Calls:   func() int { return srv.Calls(douyinauthtest.PathCode2Session) },
			Secrets: []string{testSecret},
		}
	})
}
