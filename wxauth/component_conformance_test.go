package wxauth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/clienttest"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// TestAuthorizerAppConformance: the client of an authorizer app passes
// miniauth's client conformance suite against the component fake.
func TestAuthorizerAppConformance(t *testing.T) {
	t.Parallel()
	clienttest.Run(t, func(t *testing.T) clienttest.Env {
		e := newComponentEnv(t)
		mp, rt := e.fake.Authorize(authAppID)
		require.NoError(t, e.fake.PushTicket(context.Background(), e.handler.URL))
		c, err := e.comp.Authorizer(context.Background(), authAppID)
		require.NoError(t, err)
		return clienttest.Env{
			Client: c,
			Code: func(t *testing.T) (string, string) {
				openID := mp.AddUser(wxauthtest.User{})
				return mp.Login(openID), openID
			},
			Calls:   func() int { return e.fake.Calls(wxauthtest.PathComponentCode2Session) },
			Secrets: []string{compSecret, e.aesKey, compToken, e.fake.Ticket(), rt},
		}
	})
}
