package wxauth_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wxmp/miniauth/wxauth"
)

// TestAPIErrorSentinels checks the errcode table: which sentinel each code
// matches, on which API, and that the errmsg an operator needs is kept.
func TestAPIErrorSentinels(t *testing.T) {
	t.Parallel()
	all := []error{
		wxauth.ErrInvalidCode, wxauth.ErrCodeUsed, wxauth.ErrRateLimited, wxauth.ErrHighRisk,
		wxauth.ErrSystemBusy, wxauth.ErrInvalidCredential, wxauth.ErrSessionKeyExpired,
		wxauth.ErrNotAllowed, wxauth.ErrQuotaExceeded, wxauth.ErrInvalidPhoneCode,
	}
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
	}
	for _, tc := range tests {
		err := error(&wxauth.APIError{Op: tc.op, Code: tc.code, Msg: "m"})
		for _, s := range all {
			assert.Equal(t, s == tc.want, errors.Is(err, s), "%s %d matches %v", tc.op, tc.code, s)
		}
	}
	ip := &wxauth.APIError{Op: "stable_token", Code: 40164, Msg: "invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist"}
	assert.Contains(t, ip.Error(), "invalid ip 1.2.3.4", "the errmsg names the IP to whitelist")
}
