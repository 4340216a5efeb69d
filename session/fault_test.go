package session_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// levelLines returns the lines of a JSON log at level.
func levelLines(log, level string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"level":"`+level+`"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestErrorsByFault: WeChat's rate limit of the app (45011 on the token a
// phone bind needs) is 503 service_busy, never 429 to the user; 40013 on
// getuserphonenumber stays 400 invalid_phone_code but is logged at Error
// once a burst (a foreign token gets it too). Both are logged once for
// three occurrences.
func TestErrorsByFault(t *testing.T) {
	logger, buf := debugLogger()
	e := newBindEnv(t, nil, session.WithLogger(logger))
	openID := e.fake.AddUser(wxauthtest.User{})
	old := e.silentLogin(t, openID)

	for range 3 {
		require.NoError(t, e.fake.FailNext(wxauthtest.PathStableToken, 45011))
		pc, err := e.fake.PhoneCode(openID)
		require.NoError(t, err)
		status, body := e.post(t, e.phone, old, map[string]string{"phoneCode": pc})
		require.Equal(t, http.StatusServiceUnavailable, status, body)
		require.Equal(t, session.CodeServiceBusy, body["error"])
	}
	errs := levelLines(buf.String(), "ERROR")
	require.Len(t, errs, 1, "45011 of the app: one Error line a burst: %q", errs)
	assert.Contains(t, errs[0], "45011")

	buf.Reset()
	for range 3 {
		require.NoError(t, e.fake.FailNext(wxauthtest.PathPhoneNumber, 40013))
		pc, err := e.fake.PhoneCode(openID)
		require.NoError(t, err)
		status, body := e.post(t, e.phone, old, map[string]string{"phoneCode": pc})
		require.Equal(t, http.StatusBadRequest, status, body)
		require.Equal(t, session.CodeInvalidPhoneCode, body["error"])
	}
	errs = levelLines(buf.String(), "ERROR")
	require.Len(t, errs, 1, "40013 on the phone call: one Error line a burst: %q", errs)
	assert.Contains(t, errs[0], "WithTokenSource")

	// code2session's 45011 is the user's own limit: 429.
	require.NoError(t, e.fake.FailNext(wxauthtest.PathCode2Session, 45011))
	status, body := e.post(t, e.login, "", map[string]string{"code": e.fake.Login(openID)})
	require.Equal(t, http.StatusTooManyRequests, status, body)
}
