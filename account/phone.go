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
// after the "+" and not start with 0. A national trunk prefix 0 written
// after the country code is dropped ("+86 0139 1234 5678" is
// "+8613912345678"), except where the 0 belongs to the international number
// (Italy, San Marino, the Vatican, Côte d'Ivoire, the Republic of the
// Congo): one number, one key. Refusals match [ErrInvalidPhone] and
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
	if len(digits) > 0 && digits[0] != '0' {
		var ok bool
		if digits, ok = stripTrunkZero(digits); !ok {
			return "", fmt.Errorf("%w: the number after the country code starts with 00", ErrInvalidPhone)
		}
	}
	if len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return "", fmt.Errorf("%w: need 7 to 15 digits after the country code's '+', not starting with 0", ErrInvalidPhone)
	}
	return "+" + digits, nil
}

// stripTrunkZero removes a national trunk prefix 0 written after the
// country calling code ("+86 0139..." is "+86 139...", "+44 (0)20..." is
// "+44 20..."), so that one number has one key. The 0 stays where it is part
// of the number in international form: Italy (+39 06...), San Marino
// (+378 0549...), the Vatican (+379), Côte d'Ivoire (+225 07...) and the
// Republic of the Congo (+242 06...).
//
// It reports false for a number whose national part still starts with 0
// after that: no number does.
func stripTrunkZero(digits string) (string, bool) {
	n := countryCodeLen(digits)
	if len(digits) <= n || digits[n] != '0' {
		return digits, true
	}
	switch digits[:n] {
	case "39", "378", "379", "225", "242":
		return digits, true
	}
	rest := digits[n+1:]
	if rest != "" && rest[0] == '0' {
		return "", false
	}
	return digits[:n] + rest, true
}

// countryCodeLen returns the length of the country calling code that
// digits (an international number without its "+") begins with, by the
// shape of ITU-T E.164's assignments: 1 (North America) and 7 (Russia,
// Kazakhstan) are one digit, the two-digit codes are those listed, every
// other code has three digits.
func countryCodeLen(digits string) int {
	switch {
	case digits[0] == '1' || digits[0] == '7':
		return 1
	case len(digits) >= 2 && twoDigitCodes[digits[:2]]:
		return 2
	}
	return 3
}

// twoDigitCodes are the two-digit country calling codes (ITU-T E.164).
var twoDigitCodes = map[string]bool{
	"20": true, "27": true,
	"30": true, "31": true, "32": true, "33": true, "34": true, "36": true, "39": true,
	"40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true, "48": true, "49": true,
	"51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true, "58": true,
	"60": true, "61": true, "62": true, "63": true, "64": true, "65": true, "66": true,
	"81": true, "82": true, "84": true, "86": true,
	"90": true, "91": true, "92": true, "93": true, "94": true, "95": true, "98": true,
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
// purePhoneNumber never has it; countryCode is the calling code). When
// purePhoneNumber is empty, the number is phoneNumber in countryCode:
// {phoneNumber "12025550123", countryCode "1"} is "+12025550123".
func PhoneFrom(p *wxauth.PhoneNumber) string {
	if p == nil {
		return ""
	}
	s := p.PhoneNumber
	cc := strings.TrimPrefix(p.CountryCode, "+")
	switch {
	case p.PurePhoneNumber != "":
		s = p.PurePhoneNumber
		if cc != "" {
			s = "+" + cc + " " + s
		}
	case cc == "" || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00"):
	case strings.HasPrefix(s, cc) && cc != "86":
		// phoneNumber carries the country code outside mainland China:
		// {"12025550123", "1"} is +1 202 555 0123, not a +86 number.
		s = "+" + s
	default:
		s = "+" + cc + " " + s
	}
	if n, err := NormalizePhone(s); err == nil {
		return n
	}
	return s
}
