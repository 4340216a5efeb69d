package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// maxPhoneResponseLen caps an Alipay phone response in a request body: the
// signed and encrypted JSON of my.getPhoneNumber is a few hundred bytes.
const maxPhoneResponseLen = 8 << 10

// phoneInput is what a request carries of the user's phone number, in the
// form the app's platform gives it: one of
//
//   - phoneCode: the one-time code of the phone-number button (WeChat,
//     Douyin), exchanged on the server;
//   - phoneResponse: the signed and encrypted response of Alipay's
//     my.getPhoneNumber (a JSON string), verified and decrypted here;
//   - phoneEncryptedData and phoneIv: the encrypted phone number of the
//     button's callback (Baidu, Kuaishou, and WeChat's legacy way),
//     decrypted with the session key.
type phoneInput struct {
	Code          string `json:"phoneCode"`
	Response      string `json:"phoneResponse"`
	EncryptedData string `json:"phoneEncryptedData"`
	IV            string `json:"phoneIv"`
}

// empty reports whether the request carries no phone number.
func (p *phoneInput) empty() bool {
	return p.Code == "" && p.Response == "" && p.EncryptedData == "" && p.IV == ""
}

// check checks the form of the phone input, before any code is spent.
func (p *phoneInput) check() *HTTPError {
	n := 0
	for _, s := range []string{p.Code, p.Response, p.EncryptedData} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return invalidRequest("send one of phoneCode, phoneResponse or phoneEncryptedData", nil)
	case (p.EncryptedData == "") != (p.IV == ""):
		return invalidRequest("phoneEncryptedData and phoneIv must be sent together", nil)
	case p.Code != "" && !validPhoneCode(p.Code):
		return invalidRequest("phoneCode must be 1 to 256 bytes of printable ASCII", nil)
	case len(p.Response) > maxPhoneResponseLen:
		return invalidRequest("phoneResponse is too long", nil)
	case p.IV != "" && crypto.CheckIV(p.IV) != nil:
		return invalidRequest("phoneIv must be base64 of 16 bytes", nil)
	}
	return nil
}

// supported answers a phone input that the client c cannot use: 400
// not_supported (500 for a phone code and the one client a handler was
// built with: see [flow.phoneExchanger]).
func (f *flow) phoneSupported(c miniauth.Client, p *phoneInput) *HTTPError {
	switch {
	case p.Code != "":
		_, e := f.phoneExchanger(c)
		return e
	case p.Response != "":
		if _, ok := c.(miniauth.PhoneDecrypter); !ok {
			return notSupported(c, "phoneResponse")
		}
	case p.EncryptedData != "":
		if _, ok := c.(miniauth.Decrypter); !ok {
			return notSupported(c, "phoneEncryptedData")
		}
	}
	return nil
}

// phone returns the phone number of the input for the session sess of
// client c (whose capability [flow.phoneSupported] checked): a code is
// exchanged bound to the session's openid, a response verified and
// decrypted, encrypted data decrypted with the session key.
func (f *flow) phone(ctx context.Context, c miniauth.Client, p *phoneInput, sess *miniauth.Session) (*miniauth.PhoneNumber, *HTTPError) {
	switch {
	case p.Code != "":
		px, e := f.phoneExchanger(c)
		if e != nil {
			return nil, e
		}
		return f.exchangePhone(ctx, px, p.Code, sess.OpenID)
	case p.Response != "":
		n, err := c.(miniauth.PhoneDecrypter).DecryptPhone(p.Response)
		if err == nil && (n == nil || n.PhoneNumber == "") {
			err = fmt.Errorf("session: phone response holds no number: %w", miniauth.ErrInvalidPhoneCode)
		}
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, miniauth.ErrInvalidPhoneCode):
			return nil, &HTTPError{Status: http.StatusBadRequest, Code: CodeInvalidPhoneCode,
				Message: "the phone response does not verify or decrypt: ask for the phone number again", Err: err}
		}
		// No request was made: what else fails is the server's setup (no AES
		// key, a permission the app lacks), which the user cannot fix.
		return nil, serverError(err)
	case p.EncryptedData != "":
		var n miniauth.PhoneNumber
		err := c.(miniauth.Decrypter).Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &n)
		switch {
		case errors.Is(err, miniauth.ErrWatermark):
			return nil, &HTTPError{Status: http.StatusUnauthorized, Code: CodeWatermarkMismatch,
				Message: "phoneEncryptedData was not made for this mini-program", Err: err}
		case err == nil && n.PhoneNumber == "" && n.PurePhoneNumber == "":
			err = errors.New("session: decrypted phone data holds no number")
		}
		if err != nil {
			// One answer for every failure: no padding oracle.
			return nil, &HTTPError{Status: http.StatusBadRequest, Code: CodeInvalidPhoneCode,
				Message: "the phone data does not decrypt with this login's session key: ask for the phone number again", Err: err}
		}
		if n.PhoneNumber == "" {
			n.PhoneNumber = n.PurePhoneNumber
		}
		// Made with this login's session key: this user's number.
		n.OpenID = sess.OpenID
		return &n, nil
	}
	return nil, nil
}
