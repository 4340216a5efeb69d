package alipayauth_test

import (
	"testing"

	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
	"github.com/wxmp/miniauth/clienttest"
)

// Alipay's client passes the conformance suite of miniauth.Client against
// its fake, for an app in open_id mode and for one of the user_id era.
func TestConformance(t *testing.T) {
	for name, user := range map[string]func() alipayauthtest.User{
		"open_id": func() alipayauthtest.User { return alipayauthtest.User{} },
		"user_id": func() alipayauthtest.User { return alipayauthtest.User{UserID: "2088" + digits12()} },
	} {
		t.Run(name, func(t *testing.T) {
			clienttest.Run(t, func(t *testing.T) clienttest.Env {
				srv, app, _ := newFake(t)
				return clienttest.Env{
					Client: app,
					Code: func(t *testing.T) (string, string) {
						id := srv.AddUser(user())
						return srv.AuthCode(id), id
					},
					Calls:   func() int { return srv.Calls(alipayauthtest.MethodOauthToken) },
					Secrets: []string{srv.AppPrivateKey()[40:120], srv.AESKey()},
				}
			})
		})
	}
}
