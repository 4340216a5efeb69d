package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartRunsTheWholeFlow(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	s := out.String()
	for _, want := range []string{
		"2. POST /api/login {code} -> 200 openid oQuickstartUser0000000000001, registered false",
		`3. GET /api/me with the silent login's token -> 200 openid oQuickstartUser0000000000001, user ""`,
		"5. POST /api/phone {phoneCode} with the token -> 200 registered true, new token: true",
		"6. GET /api/me with the old token -> 401",
		`7. GET /api/me with the new token -> 200 openid oQuickstartUser0000000000001, user "user-1"`,
		"8. POST /api/login with the same code again -> 401 code_used",
		"9. next launch: POST /api/login {code} -> 200 registered true",
		"10. POST /api/login {code, phoneCode} with a bad login code -> 401 invalid_code; phone exchanges so far: 1",
		"11. POST /api/login {code, phoneCode}, a fresh code, the same phone code -> 200 registered true",
		`12. GET /api/me with that token -> 200 openid oQuickstartUser0000000000002, user "user-2"`,
		"13. POST /api/logout -> 204",
		"14. GET /api/me after the logout -> 401",
		"15. three platforms behind one miniauth.NewApps: wechat wx1234567890abcdef, douyin tt0123456789abcdef, alipay 2021004100000001",
		"16. WeChat: POST /api/login {appid, code (wx.login), phoneCode} -> 200 created true; GET /api/me -> platform wechat, with a user: true",
		"17. Douyin: POST /api/login {appid, code (tt.login), phoneCode} (a phone the app checked itself: WithUnboundPhoneJoin) -> 200 created false; GET /api/me -> platform douyin, the same user as on WeChat: true",
		"18. Alipay: POST /api/login {appid, code (my.getAuthCode), phoneResponse} (the same) -> 200 created false; GET /api/me -> platform alipay, the same user as on WeChat: true",
		"19. POST /api/login {appid of no app here, code} -> 400 unknown_app; platforms called: 0",
	} {
		assert.Contains(t, s, want)
	}
	for _, secret := range []string{secret, douyinSecret, carolPhone} {
		assert.NotContains(t, s, secret)
	}
	assert.NotContains(t, s, "getUserProfile", "the flow of today: no profile")

	// Each step is numbered once, in order.
	lines := strings.Split(strings.TrimSpace(s), "\n")
	num := regexp.MustCompile(`^(\d+)\. `)
	for i, line := range lines {
		m := num.FindStringSubmatch(line)
		require.NotNil(t, m, line)
		assert.Equal(t, strconv.Itoa(i+1), m[1], "step numbers: %q", line)
	}
}
