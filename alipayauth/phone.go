package alipayauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wxmp/miniauth"
)

// MaxPhoneResponseLen is the longest my.getPhoneNumber response
// [App.DecryptPhone] accepts. Real ones are under 1 KiB.
const MaxPhoneResponseLen = 16 << 10

// phoneEnvelope is the JSON string my.getPhoneNumber hands the
// mini-program as res.response
// (https://5851388.com/s01rb0s/pathhash=3d900e26.html, a mirror of Alipay's
// 敏感信息加解密方法 page: response, sign, sign_type, encrypt_type, charset).
type phoneEnvelope struct {
	Response    string `json:"response"`
	Sign        string `json:"sign"`
	SignType    string `json:"sign_type"`
	EncryptType string `json:"encrypt_type"`
	Charset     string `json:"charset"`
}

// phonePlain is the decrypted response: {"code":"10000","msg":"Success",
// "mobile":"..."}, or an error such as {"code":"40003","msg":"...",
// "subCode":"isv.invalid-auth-relations","subMsg":"..."}
// (https://5851388.com/m01r2q7/pathhash=4f5d671d.html, a mirror of the
// phone-number page). Both spellings of the sub-code fields are read.
type phonePlain struct {
	Code     string `json:"code"`
	Msg      string `json:"msg"`
	Mobile   string `json:"mobile"`
	SubCode  string `json:"subCode"`
	SubMsg   string `json:"subMsg"`
	SubCode2 string `json:"sub_code"`
	SubMsg2  string `json:"sub_msg"`
}

// maxMobileLen bounds the number a decrypted response may carry.
const maxMobileLen = 20

// DecryptPhone verifies and decrypts the response of my.getPhoneNumber
// (the JSON string the mini-program gets as res.response and posts to the
// server as it is) into the user's phone number. It implements
// [miniauth.PhoneDecrypter]. It makes no request.
//
// The response's sign is verified with Alipay's public key (RSA2) over its
// response member, wrapped in double quotes when that member is encrypted
// (it does not start with "{"), as Alipay's Java sample does
// (isDataEncrypted = !content.startsWith("{"); signContent = "\"" + content
// + "\""; https://5851388.com/s01rb0s/pathhash=3d900e26.html). The member
// is then decrypted with AES-CBC under the app's AES key ([WithAESKey]), a
// zero IV and PKCS#5 padding (AES/CBC/PKCS5Padding, same page; the zero IV
// is what Alipay's SDKs use), into {"code":"10000","msg":"Success",
// "mobile":"..."}.
//
// PhoneNumber and PurePhoneNumber are the mobile Alipay sends (a mainland
// number without country code); CountryCode is empty. A response that is
// not JSON, does not verify, does not decrypt, or carries another code
// than 10000 matches [ErrInvalidPhoneCode] (the user presses the button
// again), except a refusal for missing permission (code 40006 or
// isv.invalid-auth-relations), which matches [ErrNotAllowed]. An App
// without an AES key fails with [ErrNoAESKey] whatever the response.
func (a *App) DecryptPhone(response string) (*miniauth.PhoneNumber, error) {
	const op = opPhone
	if a.cfg.aesKey == nil {
		return nil, fmt.Errorf("alipayauth: %s: %w", op, ErrNoAESKey)
	}
	refuse := func(why string) error {
		return fmt.Errorf("alipayauth: %s: %s: %w", op, why, ErrInvalidPhoneCode)
	}
	if response == "" || len(response) > MaxPhoneResponseLen {
		return nil, refuse(fmt.Sprintf("response must be 1 to %d bytes", MaxPhoneResponseLen))
	}
	var env phoneEnvelope
	if json.Unmarshal([]byte(response), &env) != nil || env.Response == "" {
		return nil, refuse("not the JSON object my.getPhoneNumber gives")
	}
	if env.SignType != "" && !strings.EqualFold(env.SignType, "RSA2") {
		return nil, refuse("sign_type is not RSA2")
	}
	if env.Charset != "" && !strings.EqualFold(env.Charset, "UTF-8") {
		return nil, refuse("charset is not UTF-8")
	}
	encrypted := !strings.HasPrefix(env.Response, "{")
	if encrypted && env.EncryptType != "" && !strings.EqualFold(env.EncryptType, "AES") {
		return nil, refuse("encrypt_type is not AES")
	}
	content := env.Response
	if encrypted {
		content = `"` + content + `"`
	}
	if verifyRSA2(a.pub, []byte(content), env.Sign) != nil {
		return nil, refuse("sign does not verify with alipay's public key")
	}
	plain := []byte(env.Response)
	if encrypted {
		var ok bool
		if plain, ok = decryptAESZeroIV(a.cfg.aesKey, env.Response); !ok {
			return nil, refuse("response does not decrypt with the AES key")
		}
	}
	var p phonePlain
	if json.Unmarshal(plain, &p) != nil {
		return nil, refuse("decrypted response is not JSON")
	}
	if p.Code != codeSuccess {
		sub, subMsg := p.SubCode, p.SubMsg
		if sub == "" {
			sub, subMsg = p.SubCode2, p.SubMsg2
		}
		return nil, newAPIError(op, func(s string) string { return s }, p.Code, p.Msg, sub, subMsg)
	}
	if !validMobile(p.Mobile) {
		return nil, refuse("no usable mobile")
	}
	return &miniauth.PhoneNumber{PhoneNumber: p.Mobile, PurePhoneNumber: p.Mobile}, nil
}

// validMobile reports whether m looks like a phone number: 5 to
// maxMobileLen digits, an optional leading "+".
func validMobile(m string) bool {
	d := strings.TrimPrefix(m, "+")
	if len(d) < 5 || len(m) > maxMobileLen {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// decryptAESZeroIV decrypts base64 ciphertext with AES-CBC under key, a zero
// IV and strict PKCS#5/7 padding. It reports false, with no detail, for
// anything that does not decrypt.
func decryptAESZeroIV(key []byte, ciphertext string) ([]byte, bool) {
	buf, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil || len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	var iv [aes.BlockSize]byte
	cipher.NewCBCDecrypter(block, iv[:]).CryptBlocks(buf, buf)
	n, ok := unpad(buf)
	if !ok {
		return nil, false
	}
	return buf[:n], true
}

// unpad checks PKCS#7 padding in time that does not depend on the pad's
// value and returns the plaintext length.
func unpad(b []byte) (int, bool) {
	last := b[len(b)-1]
	pad := int(last)
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	tail := b[len(b)-aes.BlockSize:]
	for i := range aes.BlockSize {
		inPad := subtle.ConstantTimeLessOrEq(i+1, pad)
		eq := subtle.ConstantTimeByteEq(tail[aes.BlockSize-1-i], last)
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	if good != 1 {
		return 0, false
	}
	return len(b) - pad, true
}
