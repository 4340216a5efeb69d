package wxauth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// allSentinels returns every sentinel error of package wxauth.
func allSentinels() []error {
	return []error{
		wxauth.ErrInvalidCode, wxauth.ErrCodeUsed, wxauth.ErrRateLimited, wxauth.ErrHighRisk,
		wxauth.ErrSystemBusy, wxauth.ErrInvalidCredential, wxauth.ErrSessionKeyExpired,
		wxauth.ErrNotAllowed, wxauth.ErrQuotaExceeded, wxauth.ErrInvalidPhoneCode,
		wxauth.ErrRequestRejected, wxauth.ErrBadResponse, wxauth.ErrWatermark, wxauth.ErrInvalidOpenID,
	}
}

// TestAPIErrorSentinels checks the errcode table: which sentinel each code
// matches, on which API, and that the errmsg an operator needs is kept.
func TestAPIErrorSentinels(t *testing.T) {
	t.Parallel()
	all := allSentinels()
	tests := []struct {
		op   string
		code int
		want error // nil: matches none
	}{
		{"code2session", 40029, wxauth.ErrInvalidCode},
		{"code2session", 40163, wxauth.ErrCodeUsed},
		{"code2session", 40013, wxauth.ErrInvalidCredential},
		{"code2session", 40003, nil},
		{"code2session", 45011, wxauth.ErrRateLimited},
		{"code2session", 40226, wxauth.ErrHighRisk},
		{"code2session", -1, wxauth.ErrSystemBusy},
		{"stable_token", 40164, wxauth.ErrNotAllowed},
		{"stable_token", 40243, wxauth.ErrNotAllowed},
		{"stable_token", 41004, wxauth.ErrNotAllowed},
		{"getuserphonenumber", 48001, wxauth.ErrNotAllowed},
		{"getuserphonenumber", 50004, wxauth.ErrNotAllowed},
		{"getuserphonenumber", 50007, wxauth.ErrNotAllowed},
		{"getuserphonenumber", 89503, wxauth.ErrNotAllowed},
		{"getuserphonenumber", 89506, wxauth.ErrNotAllowed},
		{"getuserphonenumber", 89507, wxauth.ErrNotAllowed},
		{"getuserphonenumber", 45009, wxauth.ErrQuotaExceeded},
		{"getuserphonenumber", 45011, wxauth.ErrRateLimited},
		{"getuserphonenumber", 40029, wxauth.ErrInvalidPhoneCode},
		{"getuserphonenumber", 40163, wxauth.ErrInvalidPhoneCode},
		{"getuserphonenumber", 40013, wxauth.ErrInvalidPhoneCode},
		{"getuserphonenumber", 40003, wxauth.ErrInvalidPhoneCode},
		{"getuserphonenumber", 40001, wxauth.ErrInvalidCredential},
		{"checksession", 87009, wxauth.ErrSessionKeyExpired},
		{"resetusersessionkey", 87007, wxauth.ErrSessionKeyExpired},
		{"code2session", 12345, nil},
		// The request itself: an operator or a developer reads the errmsg.
		{"getuserphonenumber", 40097, wxauth.ErrRequestRejected},  // invalid args
		{"getuserphonenumber", 40234, wxauth.ErrRequestRejected},  // API signature: invalid signature
		{"getuserphonenumber", 40235, wxauth.ErrRequestRejected},  // API signature: invalid encrypt
		{"getuserphonenumber", 934011, wxauth.ErrRequestRejected}, // API signature: request_body is required
		{"checksession", 40003, nil},                              // invalid openid (not a phone code here)
	}
	for _, tc := range tests {
		err := error(&wxauth.APIError{Op: tc.op, Code: tc.code, Msg: "m"})
		for _, s := range all {
			assert.Equal(t, s == tc.want, errors.Is(err, s), "%s %d matches %v", tc.op, tc.code, s)
		}
	}
	ip := &wxauth.APIError{Op: "stable_token", Code: 40164, Msg: "invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist"}
	assert.Contains(t, ip.Error(), "invalid ip 1.2.3.4", "the errmsg names the IP to whitelist")
	for code, msg := range map[int]string{40097: "invalid args", 40234: "invalid signature", 40235: "invalid encrypt", 934011: "request_body is required"} {
		e := &wxauth.APIError{Op: "getuserphonenumber", Code: code, Msg: msg, RID: "6530f3a2-1b2c3d4e-5f6a7b8c"}
		assert.Equal(t, fmt.Sprintf("wxauth: getuserphonenumber: errcode %d: %s (rid: 6530f3a2-1b2c3d4e-5f6a7b8c)", code, msg), e.Error())
	}
}

// TestE2EErrorTable sends every errcode of the table in the package docs
// from the fake, with WeChat's text, as a number and as a string, through
// the API it comes from, and checks the sentinel it matches (and that it
// matches no other), and that Msg and RID are kept.
func TestE2EErrorTable(t *testing.T) {
	t.Parallel()
	all := allSentinels()
	type call func(ctx context.Context, srv *wxauthtest.Server, app *wxauth.App) error
	code2session := func(ctx context.Context, srv *wxauthtest.Server, app *wxauth.App) error {
		_, err := app.Code2Session(ctx, srv.Login(""))
		return err
	}
	token := func(ctx context.Context, _ *wxauthtest.Server, app *wxauth.App) error {
		_, err := app.AccessToken(ctx)
		return err
	}
	phone := func(ctx context.Context, srv *wxauthtest.Server, app *wxauth.App) error {
		id := srv.AddUser(wxauthtest.User{})
		code, err := srv.PhoneCode(id)
		require.NoError(t, err)
		_, err = app.GetPhoneNumber(ctx, code, wxauth.ForOpenID(id))
		return err
	}
	session := func(reset bool) call {
		return func(ctx context.Context, srv *wxauthtest.Server, app *wxauth.App) error {
			sess, err := app.Code2Session(ctx, srv.Login(""))
			require.NoError(t, err)
			if reset {
				_, err = app.ResetSessionKey(ctx, sess.OpenID, sess.SessionKey)
				return err
			}
			return app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey)
		}
	}
	tests := []struct {
		path string
		call call
		code int
		msg  string
		want error // nil: matches no sentinel
	}{
		{wxauthtest.PathCode2Session, code2session, -1, "system error", wxauth.ErrSystemBusy},
		{wxauthtest.PathCode2Session, code2session, 40029, "invalid code", wxauth.ErrInvalidCode},
		{wxauthtest.PathCode2Session, code2session, 40163, "code been used", wxauth.ErrCodeUsed},
		{wxauthtest.PathCode2Session, code2session, 45011, "api minute-quota reach limit mustslower retry next minute", wxauth.ErrRateLimited},
		{wxauthtest.PathCode2Session, code2session, 40226, "code blocked", wxauth.ErrHighRisk},
		{wxauthtest.PathCode2Session, code2session, 40013, "invalid appid", wxauth.ErrInvalidCredential},
		{wxauthtest.PathCode2Session, code2session, 40125, "invalid appsecret", wxauth.ErrInvalidCredential},
		{wxauthtest.PathCode2Session, code2session, 41002, "appid missing", wxauth.ErrInvalidCredential},
		{wxauthtest.PathStableToken, token, 40001, "invalid credential, access_token is invalid or not latest", wxauth.ErrInvalidCredential},
		{wxauthtest.PathStableToken, token, 40164, "invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist", wxauth.ErrNotAllowed},
		{wxauthtest.PathStableToken, token, 40243, "AppSecret is frozen", wxauth.ErrNotAllowed},
		{wxauthtest.PathCode2Session, code2session, 41004, "appsecret missing", wxauth.ErrNotAllowed},
		{wxauthtest.PathPhoneNumber, phone, 48001, "api unauthorized", wxauth.ErrNotAllowed},
		{wxauthtest.PathPhoneNumber, phone, 50004, "api forbidden", wxauth.ErrNotAllowed},
		{wxauthtest.PathPhoneNumber, phone, 50007, "account freeze", wxauth.ErrNotAllowed},
		{wxauthtest.PathPhoneNumber, phone, 89503, "need administrator confirm", wxauth.ErrNotAllowed},
		{wxauthtest.PathPhoneNumber, phone, 89506, "administrator rejected", wxauth.ErrNotAllowed},
		{wxauthtest.PathPhoneNumber, phone, 89507, "administrator rejected, wait", wxauth.ErrNotAllowed},
		{wxauthtest.PathPhoneNumber, phone, 45009, "reach max api daily quota limit", wxauth.ErrQuotaExceeded},
		{wxauthtest.PathStableToken, token, 45009, "reach max api daily quota limit", wxauth.ErrQuotaExceeded},
		{wxauthtest.PathPhoneNumber, phone, 40029, "invalid code", wxauth.ErrInvalidPhoneCode},
		{wxauthtest.PathPhoneNumber, phone, 40163, "code been used", wxauth.ErrInvalidPhoneCode},
		{wxauthtest.PathPhoneNumber, phone, 40013, "invalid appid", wxauth.ErrInvalidPhoneCode},
		{wxauthtest.PathPhoneNumber, phone, 40003, "invalid openid", wxauth.ErrInvalidPhoneCode},
		{wxauthtest.PathCheckSession, session(false), 87009, "invalid signature", wxauth.ErrSessionKeyExpired},
		{wxauthtest.PathResetSessionKey, session(true), 87007, "session_key is not existed or expired", wxauth.ErrSessionKeyExpired},
		{wxauthtest.PathPhoneNumber, phone, 40097, "invalid args", wxauth.ErrRequestRejected},
		{wxauthtest.PathPhoneNumber, phone, 40234, "invalid signature", wxauth.ErrRequestRejected},
		{wxauthtest.PathPhoneNumber, phone, 40235, "invalid encrypt", wxauth.ErrRequestRejected},
		{wxauthtest.PathPhoneNumber, phone, 934011, "request_body is required", wxauth.ErrRequestRejected},
		{wxauthtest.PathCheckSession, session(false), 40003, "invalid openid", nil},
	}
	for _, tt := range tests {
		for _, asString := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d %s string=%v", tt.code, tt.path, asString), func(t *testing.T) {
				t.Parallel()
				srv, app := e2eSetup(t, nil, wxauth.WithRetry(0))
				ctx := context.Background()
				opts := []wxauthtest.FailOption{wxauthtest.WithErrMsg(tt.msg)}
				if asString {
					opts = append(opts, wxauthtest.WithErrCodeString())
				}
				require.NoError(t, srv.FailNext(tt.path, tt.code, opts...))
				err := tt.call(ctx, srv, app)
				require.Error(t, err)
				var ae *wxauth.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.code, ae.Code)
				assert.Equal(t, tt.msg, ae.Msg, "WeChat's errmsg is kept")
				assert.NotEmpty(t, ae.RID)
				for _, s := range all {
					assert.Equal(t, s == tt.want, errors.Is(err, s), "errcode %d matches %v", tt.code, s)
				}
			})
		}
	}
}
