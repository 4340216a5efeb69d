package account_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/wxauth"
)

func TestNormalizePhone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+8613912345678", "+8613912345678"},
		{"+86 139 1234 5678", "+8613912345678"},
		{"+86-139-1234-5678", "+8613912345678"},
		{"13912345678", "+8613912345678"},
		{"008613912345678", "+8613912345678"},
		{"+1 (212) 555-0123", "+12125550123"},
		{"+852 6123 4567", "+85261234567"},
		{"0012125550123", "+12125550123"},
		{"+86 0139 1234 5678", "+8613912345678"}, // a trunk 0 after the country code: one key per number
		{"+860139 1234 5678", "+8613912345678"},
		{"+44 (0)20 7946 0958", "+442079460958"},
		{"+49 030 123456", "+4930123456"},
		{"+852 0612 3456", "+8526123456"},
		{"+39 06 1234 5678", "+390612345678"}, // Italy keeps its 0
		{"+225 07 1234 5678", "+2250712345678"},
		{"", ""},
		{"+", ""},
		{"2125550123", ""},        // a national number of another country: which one?
		{"1391234567", ""},        // 10 digits: not a mainland mobile
		{"+86 139+1234", ""},      // a second '+'
		{"+0 12345678", ""},       // a country code cannot start with 0
		{"+1234567890123456", ""}, // 16 digits
		{"+86 １３９12345678", ""},   // full-width digits
		{"tel:+8613912345678", ""},
		{strings.Repeat("1", 65), ""},
	} {
		got, err := account.NormalizePhone(c.in)
		if c.want == "" {
			assert.ErrorIs(t, err, account.ErrInvalidPhone, c.in)
			continue
		}
		assert.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestPhoneFrom(t *testing.T) {
	for _, c := range []struct {
		p    *wxauth.PhoneNumber
		want string
	}{
		{nil, ""},
		{&wxauth.PhoneNumber{PhoneNumber: "13912345678", PurePhoneNumber: "13912345678", CountryCode: "86"}, "+8613912345678"},
		{&wxauth.PhoneNumber{PhoneNumber: "+852 61234567", PurePhoneNumber: "61234567", CountryCode: "852"}, "+85261234567"},
		{&wxauth.PhoneNumber{PurePhoneNumber: "61234567", CountryCode: "+852"}, "+85261234567"},
		{&wxauth.PhoneNumber{PhoneNumber: "13912345678"}, "+8613912345678"},
		{&wxauth.PhoneNumber{PhoneNumber: "12025550123", CountryCode: "1"}, "+12025550123"}, // no purePhoneNumber: the country code counts
		{&wxauth.PhoneNumber{PhoneNumber: "2025550123", CountryCode: "1"}, "+12025550123"},
		{&wxauth.PhoneNumber{PhoneNumber: "13912345678", CountryCode: "86"}, "+8613912345678"},
		{&wxauth.PhoneNumber{PhoneNumber: "+852 61234567", CountryCode: "852"}, "+85261234567"},
		{&wxauth.PhoneNumber{PurePhoneNumber: "12", CountryCode: "86"}, "+86 12"}, // left for Resolve to refuse
	} {
		assert.Equal(t, c.want, account.PhoneFrom(c.p))
	}
}

var normalForm = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+8613912345678", "13912345678", "+1 (212) 555-0123", "0086 139", "+", "", "++1", "1-2.3(4)5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := account.NormalizePhone(s)
		if err != nil {
			assert.ErrorIs(t, err, account.ErrInvalidPhone)
			assert.Empty(t, got)
			if digits := strings.Trim(s, "+ -.()"); len(digits) >= 6 {
				assert.NotContains(t, err.Error(), digits, "an error quotes the phone")
			}
			return
		}
		assert.Regexp(t, normalForm, got)
		again, err := account.NormalizePhone(got)
		assert.NoError(t, err)
		assert.Equal(t, got, again, "normalising is idempotent")
	})
}
