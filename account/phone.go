package account

import (
	"fmt"
	"strings"

	"github.com/wxmp/miniauth/wxauth"
)

// maxPhoneInput is the longest phone string NormalizePhone reads.
const maxPhoneInput = 64

// NormalizePhone returns phone in the form a [Linker] compares and stores:
// "+", the country calling code and the national number, digits only, as in
// E.164: "+8613912345678".
//
// It removes spaces, '-', '.', '(' and ')', and reads a leading "00" as "+".
// A number without a country code is read as a mainland China number (+86)
// when it has the form of one, 11 digits starting with 1, which is the
// purePhoneNumber WeChat gives for +86; any other number without a country
// code is refused. So "+86 139-1234-5678", "008613912345678" and
// "13912345678" are all "+8613912345678". That guess is only for numbers
// typed without "+": a US number "2025550123" written as 11 digits starting
// with 1 would be read as +86, so give other numbers with their "+" (numbers
// from WeChat, through [PhoneFrom], always carry their country code). A
// number must have 7 to 15 digits
// after the "+" and not start with 0. Refusals match [ErrInvalidPhone] and
// never quote the number.
func NormalizePhone(phone string) (string, error) {
	if len(phone) > maxPhoneInput {
		return "", fmt.Errorf("%w: over %d bytes", ErrInvalidPhone, maxPhoneInput)
	}
	var b strings.Builder
	b.Grow(len(phone) + 3)
	plus := false
	for i := 0; i < len(phone); i++ {
		switch c := phone[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '+' && b.Len() == 0 && !plus:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", fmt.Errorf("%w: only digits, a leading '+', spaces, '-', '.', '(' and ')' are allowed", ErrInvalidPhone)
		}
	}
	digits := b.String()
	switch {
	case plus:
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
	case len(digits) == 11 && digits[0] == '1':
		digits = "86" + digits
	default:
		return "", fmt.Errorf("%w: give the country code with '+' (only 11-digit mainland China mobile numbers may omit it)", ErrInvalidPhone)
	}
	if len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return "", fmt.Errorf("%w: need 7 to 15 digits after the country code's '+', not starting with 0", ErrInvalidPhone)
	}
	return "+" + digits, nil
}

// PhoneFrom returns the phone number WeChat gave (from the phone-number
// button's code, [wxauth.App.GetPhoneNumber], or decrypted data) in the form
// [Identity.Phone] takes: "+" + countryCode + purePhoneNumber, normalised by
// [NormalizePhone] ("+8613912345678"). It returns "" for a nil p. When p's
// fields do not make a valid number it returns them unnormalised, and
// [Linker.Resolve] refuses them with [ErrInvalidPhone].
//
// WeChat's fields are described at
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
// (phoneNumber has the country code only outside mainland China;
// purePhoneNumber never has it; countryCode is the calling code).
func PhoneFrom(p *wxauth.PhoneNumber) string {
	if p == nil {
		return ""
	}
	s := p.PhoneNumber
	if p.PurePhoneNumber != "" {
		s = p.PurePhoneNumber
		if cc := strings.TrimPrefix(p.CountryCode, "+"); cc != "" {
			s = "+" + cc + " " + s
		}
	}
	if n, err := NormalizePhone(s); err == nil {
		return n
	}
	return s
}
