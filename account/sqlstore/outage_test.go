package sqlstore_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
)

// TestLoginPathOutage takes the account database away under a login
// service, cut (the server dead) and frozen (the server stopped), on
// MariaDB and PostgreSQL: the first login of the outage fails after WeChat
// took its codes and says so (503 code_spent); every later login and phone
// bind is refused 503 store_unavailable before it spends a code, until the
// background probe sees the database again; the outage is one Error line
// and one Warn line.
func TestLoginPathOutage(t *testing.T) {
	for _, kind := range []string{"MySQL", "PostgreSQL"} {
		for _, mode := range []string{"cut", "frozen"} {
			t.Run(kind+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s := newLoginStack(t, kind)
				for range 3 {
					status, body := s.phoneLogin(t)
					require.Equal(t, http.StatusOK, status, body)
				}
				// A silent login before the outage, to bind a phone during it.
				silent := s.user()
				status, body := post(t, s.login, "", map[string]string{"code": s.fake.Login(silent)})
				require.Equal(t, http.StatusOK, status, body)
				require.Equal(t, false, body["registered"])
				silentToken := body["token"].(string)

				if mode == "cut" {
					s.proxy.Cut()
				} else {
					s.proxy.Freeze()
				}
				start := time.Now()
				status, body = s.phoneLogin(t)
				took := time.Since(start)
				require.Equal(t, http.StatusServiceUnavailable, status, body)
				assert.Equal(t, session.CodeCodeSpent, body["error"], "the first login of an outage spent its codes and says so")
				assert.Less(t, took, 2*time.Second, "a frozen database costs one bounded wait")
				t.Logf("%s %s: first 503 after %v", kind, mode, took.Round(time.Millisecond))

				loginBefore, phoneBefore := s.spent()
				for range 20 {
					start := time.Now()
					status, body := s.phoneLogin(t)
					require.Equal(t, http.StatusServiceUnavailable, status, body)
					require.Equal(t, session.CodeStoreUnavailable, body["error"], "refused before a code is spent")
					require.Less(t, time.Since(start), 500*time.Millisecond, "refused at once")
					pc, err := s.fake.PhoneCode(silent)
					require.NoError(t, err)
					status, body = post(t, s.phone, silentToken, map[string]string{"phoneCode": pc})
					require.Equal(t, http.StatusServiceUnavailable, status, body)
					require.Equal(t, session.CodeStoreUnavailable, body["error"])
				}
				loginAfter, phoneAfter := s.spent()
				assert.Equal(t, loginBefore, loginAfter, "no wx.login code spent once the outage is known")
				assert.Equal(t, phoneBefore, phoneAfter, "no phone code spent once the outage is known")

				s.proxy.Restore()
				deadline := time.Now().Add(10 * time.Second)
				for {
					status, body = s.phoneLogin(t)
					if status == http.StatusOK || time.Now().After(deadline) {
						break
					}
					require.Equal(t, session.CodeStoreUnavailable, body["error"], "refused until the probe sees the database")
					time.Sleep(50 * time.Millisecond)
				}
				require.Equal(t, http.StatusOK, status, "the background probe brings the database back: %v", body)
				pc, err := s.fake.PhoneCode(silent)
				require.NoError(t, err)
				status, body = post(t, s.phone, silentToken, map[string]string{"phoneCode": pc})
				require.Equal(t, http.StatusOK, status, "the bind's token survived the outage: %v", body)

				lines := s.logs.aboveDebug()
				require.Len(t, lines, 2, "one Error and one Warn line an outage: %q", lines)
				assert.True(t, strings.HasPrefix(lines[0], "ERROR session: dependency unavailable dependency=account store"), lines[0])
				assert.True(t, strings.HasPrefix(lines[1], "WARN session: dependency available again dependency=account store"), lines[1])
				assert.Contains(t, lines[1], "refused=", lines[1])
			})
		}
	}
}
