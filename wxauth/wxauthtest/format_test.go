package wxauthtest_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// TestServerNeverPrintsItsSecrets: a *Server printed in a failing test's
// output, with any verb, shows its URL and appid and none of the secret,
// codes, session_keys and tokens it holds.
func TestServerNeverPrintsItsSecrets(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	code := srv.Login("o-print")
	key, err := srv.SessionKey("o-print")
	require.NoError(t, err)
	phone, err := srv.PhoneCode("o-print")
	require.NoError(t, err)
	tok := srv.AccessToken()
	holder := struct{ Srv *wxauthtest.Server }{srv}
	for _, s := range []string{
		fmt.Sprint(srv), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", srv, srv, srv, srv, srv, srv),
		fmt.Sprintf("%+v|%#v", holder, holder),
	} {
		for _, secret := range []string{testSecret, code, key, phone, tok, "13800138000"} {
			assert.NotContains(t, s, secret)
		}
		assert.Contains(t, s, srv.URL)
		assert.Contains(t, s, testAppID)
	}
}
