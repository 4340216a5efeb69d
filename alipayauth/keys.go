package alipayauth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
)

// minKeyBits is the smallest RSA key accepted: the keys Alipay's key tool
// makes for RSA2 are 2048 bits.
const minKeyBits = 2048

// maxKeyText caps the text of a key given to [New].
const maxKeyText = 16 << 10

// keyDER returns the DER bytes of key text: a PEM block of one of the
// allowed types, or bare base64 (as the Alipay console and its key tool show
// keys: one line, no header), whitespace allowed. Errors never quote the
// text.
func keyDER(what, text string, pemTypes ...string) (der []byte, pemType string, err error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, "", errors.New("alipayauth: " + what + " must not be empty")
	}
	if len(text) > maxKeyText {
		return nil, "", errors.New("alipayauth: " + what + " is too long to be a key")
	}
	if strings.HasPrefix(text, "-----BEGIN") {
		block, rest := pem.Decode([]byte(text))
		if block == nil || strings.TrimSpace(string(rest)) != "" {
			return nil, "", errors.New("alipayauth: " + what + " is not one well-formed PEM block")
		}
		for _, t := range pemTypes {
			if block.Type == t {
				if len(block.Headers) != 0 {
					return nil, "", errors.New("alipayauth: " + what + " is an encrypted PEM key; decrypt it first")
				}
				return block.Bytes, t, nil
			}
		}
		if block.Type == "CERTIFICATE" {
			return nil, "", errors.New("alipayauth: " + what + " is a certificate; the public-key certificate mode is not supported, give the key itself")
		}
		return nil, "", errors.New("alipayauth: " + what + " is a PEM block of type " + pemTypeName(block.Type) + ", want one of " + strings.Join(pemTypes, ", "))
	}
	compact := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, text)
	der, err = base64.StdEncoding.DecodeString(compact)
	if err != nil {
		return nil, "", errors.New("alipayauth: " + what + " is neither PEM nor base64")
	}
	return der, "", nil
}

// pemTypeName quotes a PEM type for an error, bounded and printable.
func pemTypeName(t string) string {
	if len(t) > 32 {
		t = t[:32]
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, t) + `"`
}

// parsePrivateKey parses the app's private key: PKCS#1 ("RSA PRIVATE KEY")
// or PKCS#8 ("PRIVATE KEY"), PEM or bare base64.
func parsePrivateKey(text string) (*rsa.PrivateKey, error) {
	const what = "app private key"
	der, typ, err := keyDER(what, text, "RSA PRIVATE KEY", "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	var key *rsa.PrivateKey
	if typ != "PRIVATE KEY" {
		key, err = x509.ParsePKCS1PrivateKey(der)
	}
	if typ == "PRIVATE KEY" || (typ == "" && err != nil) {
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(der); err == nil {
			var ok bool
			if key, ok = k.(*rsa.PrivateKey); !ok {
				return nil, errors.New("alipayauth: " + what + " is not an RSA key")
			}
		}
	}
	if err != nil {
		return nil, errors.New("alipayauth: " + what + " is not a PKCS#1 or PKCS#8 RSA private key")
	}
	if key.N.BitLen() < minKeyBits {
		return nil, errors.New("alipayauth: " + what + " is shorter than 2048 bits (RSA2 needs 2048)")
	}
	return key, nil
}

// parsePublicKey parses Alipay's public key: PKIX ("PUBLIC KEY", what the
// console shows) or PKCS#1 ("RSA PUBLIC KEY"), PEM or bare base64.
func parsePublicKey(text string) (*rsa.PublicKey, error) {
	const what = "alipay public key"
	der, typ, err := keyDER(what, text, "PUBLIC KEY", "RSA PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	var key *rsa.PublicKey
	if typ != "RSA PUBLIC KEY" {
		var k any
		if k, err = x509.ParsePKIXPublicKey(der); err == nil {
			var ok bool
			if key, ok = k.(*rsa.PublicKey); !ok {
				return nil, errors.New("alipayauth: " + what + " is not an RSA key")
			}
		}
	}
	if typ == "RSA PUBLIC KEY" || (typ == "" && err != nil) {
		key, err = x509.ParsePKCS1PublicKey(der)
	}
	if err != nil {
		if _, perr := x509.ParsePKCS8PrivateKey(der); perr == nil {
			return nil, errors.New("alipayauth: " + what + " is a private key; give Alipay's public key (支付宝公钥)")
		}
		return nil, errors.New("alipayauth: " + what + " is not a PKIX or PKCS#1 RSA public key")
	}
	if key.N.BitLen() < minKeyBits {
		return nil, errors.New("alipayauth: " + what + " is shorter than 2048 bits (RSA2 needs 2048)")
	}
	return key, nil
}
