package douyinauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// minKeyBits is the smallest RSA key WithPrivateKey accepts.
const minKeyBits = 2048

// maxKeyLen caps the text WithPrivateKey parses.
const maxKeyLen = 16 << 10

// errBadKey is WithPrivateKey's error: it never quotes the key.
var errBadKey = errors.New("douyinauth: private key must be an RSA key of at least 2048 bits, PEM or bare base64, PKCS#1 or PKCS#8")

// parsePrivateKey reads an RSA private key: PEM, or the bare base64 of its
// DER (white space ignored, as the console's text is often wrapped), in
// PKCS#1 or PKCS#8.
func parsePrivateKey(key string) (*rsa.PrivateKey, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > maxKeyLen {
		return nil, errBadKey
	}
	var der []byte
	if strings.HasPrefix(key, "-----BEGIN") {
		block, rest := pem.Decode([]byte(key))
		if block == nil || strings.TrimSpace(string(rest)) != "" {
			return nil, errBadKey
		}
		if block.Type != "RSA PRIVATE KEY" && block.Type != "PRIVATE KEY" {
			return nil, errBadKey
		}
		if len(block.Headers) != 0 { // an encrypted PEM (Proc-Type: 4,ENCRYPTED)
			return nil, fmt.Errorf("%w (an encrypted PEM is not supported)", errBadKey)
		}
		der = block.Bytes
	} else {
		b64 := strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, key)
		var err error
		if der, err = base64.StdEncoding.DecodeString(b64); err != nil {
			return nil, errBadKey
		}
	}
	var priv *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		priv = k
	} else if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w (not an RSA key)", errBadKey)
		}
		priv = rk
	} else {
		return nil, errBadKey
	}
	if priv.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("%w (got %d bits)", errBadKey, priv.N.BitLen())
	}
	if priv.Validate() != nil {
		return nil, errBadKey
	}
	priv.Precompute()
	return priv, nil
}

// phoneBody is the JSON body of get_phonenumber_info.
type phoneBody struct {
	Code string `json:"code"`
}

// phoneReply is get_phonenumber_info's reply: the api/apps/v1 envelope
// with data the base64 RSA ciphertext of the phone number.
type phoneReply struct {
	msgReply
	Data string `json:"data"`
}

// maxPhoneDataLen caps the ciphertext accepted from a reply (base64 text).
const maxPhoneDataLen = 8 << 10

// GetPhoneNumber exchanges the code of the phone-number button
// (open-type="getPhoneNumber", e.detail.code, base library 3.51.0 and
// later) for the user's [miniauth.PhoneNumber] (POST
// open.douyin.com/api/apps/v1/get_phonenumber_info/ with the client_token in
// the access-token header). The code is valid for 5 minutes and once, and
// is not tt.login's code
// (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/tutorial/open-capabilities/general-capabilities/new-phone-method).
// Douyin replies with the number encrypted with the app's public key
// (RSA, PKCS#1 v1.5): the App decrypts it with [WithPrivateKey]'s key.
//
// Without a private key it fails with [ErrNoPrivateKey] before any request,
// so the code is not spent. A code that is empty, over [MaxCodeLen] bytes or
// not printable ASCII is [ErrInvalidPhoneCode] without a request. Douyin's
// refusals are [*APIError]s: an expired, used or malformed code matches
// [ErrInvalidPhoneCode]; a refused client_token is fetched anew and the call
// made once more. A reply that does not decrypt with the key (the console's
// public key is not its pair) or holds no number is [ErrBadResponse]; a
// number whose watermark names another app is [ErrWatermark].
//
// [miniauth.ForOpenID] is accepted and ignored: the call has no openid
// parameter, so Douyin cannot bind the code to a user.
func (a *App) GetPhoneNumber(ctx context.Context, code string, opts ...miniauth.PhoneOption) (*miniauth.PhoneNumber, error) {
	_ = miniauth.NewPhoneOptions(opts...) // nothing to send: see above
	if a.cfg.privateKey == nil {
		return nil, ErrNoPrivateKey
	}
	if err := checkCode(code, ErrInvalidPhoneCode); err != nil {
		return nil, err
	}
	var r phoneReply
	if err := a.callWithToken(ctx, code, &r); err != nil {
		return nil, err
	}
	return a.decryptPhone(r.Data)
}

// callWithToken makes the get_phonenumber_info call with the client_token,
// through the token cache's [engine.TokenCache.Call]: if Douyin refuses
// that token (28001008), it is dropped (only it) and the call made once
// more with a new one; a new token equal to the refused one is not tried.
func (a *App) callWithToken(ctx context.Context, code string, out engine.Reply) error {
	return a.tokens.Call(ctx, isTokenError, func(tok string) error {
		return a.do(ctx, a.phoneRequest(code, tok), out)
	})
}

func (a *App) phoneRequest(code, tok string) request {
	return request{
		op:      opPhone,
		base:    a.cfg.openURL,
		path:    "/api/apps/v1/get_phonenumber_info/",
		body:    phoneBody{Code: code},
		header:  map[string]string{"access-token": tok},
		secrets: []string{code, tok},
	}
}

// decryptPhone decrypts get_phonenumber_info's data: base64 of one or more
// RSA blocks (PKCS#1 v1.5) of the JSON {phoneNumber, purePhoneNumber,
// countryCode, watermark}. Its failures say nothing about the data.
func (a *App) decryptPhone(data string) (*miniauth.PhoneNumber, error) {
	if data == "" || len(data) > maxPhoneDataLen {
		return nil, a.eng.BadReply(opPhone, "no phone data")
	}
	ct, err := base64.StdEncoding.DecodeString(data)
	k := a.cfg.privateKey.Size()
	if err != nil || len(ct) == 0 || len(ct)%k != 0 {
		return nil, a.eng.BadReply(opPhone, "phone data is not RSA ciphertext of the private key's size")
	}
	var plain []byte
	for i := 0; i < len(ct); i += k {
		// PKCS#1 v1.5 is what Douyin uses (per SDKs; the doc says RSA). Its
		// padding oracle needs an attacker who can submit ciphertexts and
		// see which fail: these come from Douyin over TLS, and every
		// failure reads the same.
		p, err := rsa.DecryptPKCS1v15(nil, a.cfg.privateKey, ct[i:i+k])
		if err != nil {
			return nil, a.eng.BadReply(opPhone, "phone data does not decrypt with the private key (is the console's 应用公钥 its pair?)")
		}
		plain = append(plain, p...)
	}
	var p miniauth.PhoneNumber
	if json.Unmarshal(plain, &p) != nil || (p.PhoneNumber == "" && p.PurePhoneNumber == "") {
		return nil, a.eng.BadReply(opPhone, "no phone number in the decrypted data")
	}
	if p.PhoneNumber == "" {
		p.PhoneNumber = p.PurePhoneNumber
	}
	if p.Watermark.AppID != "" && p.Watermark.AppID != a.appID {
		return nil, fmt.Errorf("douyinauth: %s: %w", opPhone, ErrWatermark)
	}
	return &p, nil
}
