package alipayauth

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
)

// Request signing and response verification, RSA2: SHA256withRSA with
// PKCS#1 v1.5 padding, the signature in standard base64. The gateway's
// parameter table names the algorithm (sign_type RSA2, "商户请求参数的签名串";
// https://w3cschool.cn/aliminiapp/aliminiapp-osfv2j24.html, a mirror of
// alipay.system.oauth.token's page); the exact signed string rests on
// Alipay's SDKs (smartwalle/alipay's URLValues and signWithPKCS1v15, the
// Java SDK's AlipaySignature.getSignContent):
//
// A request's signed content is every parameter but sign, with a non-empty
// value, sorted by name, as name=value joined by "&", the values not
// URL-encoded. A reply's signature is over the raw text of its response
// node (or error_response), cut out of the body.

// signContent returns the string a request's signature is made over.
func signContent(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

// signRSA2 signs content with key and returns the signature in base64.
func signRSA2(key *rsa.PrivateKey, content []byte) (string, error) {
	sum := sha256.Sum256(content)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// maxSignLen bounds a base64 signature: a 4096-bit key's is 684 characters.
const maxSignLen = 1024

// errSignature is a signature that does not verify, or is not base64.
var errSignature = errors.New("alipayauth: signature does not verify with alipay's public key")

// verifyRSA2 checks sig (base64) over content with key.
func verifyRSA2(key *rsa.PublicKey, content []byte, sig string) error {
	if sig == "" || len(sig) > maxSignLen {
		return errSignature
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errSignature
	}
	sum := sha256.Sum256(content)
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], raw) != nil {
		return errSignature
	}
	return nil
}

// replyParts is a reply of Alipay's gateway, cut into the parts that
// matter: the raw text of the method's response node and of error_response
// (each exactly as it appears in the body: the signature is over those
// bytes, so they are never re-serialised) and the sign beside them.
type replyParts struct {
	node    []byte // the value of "<method with _>_response", or nil
	errNode []byte // the value of "error_response", or nil
	sign    string
	hasSign bool
}

// errReplyShape is a reply that is not one JSON object with unique
// top-level members.
var errReplyShape = errors.New("not a JSON object with unique members")

// splitReply cuts body, the gateway's JSON reply, into its replyParts for
// the response node nodeName. The top-level members are read with a
// tokenizer, so that a member's raw text is cut out by its position in the
// body (a search for the name as text could be fooled by the name inside a
// string). A repeated top-level member is refused: two values for one name
// would let a verifier and a decoder read different ones.
func splitReply(body []byte, nodeName string) (replyParts, error) {
	var r replyParts
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return r, errReplyShape
	}
	seen := make(map[string]bool, 4)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return r, errReplyShape
		}
		name, ok := tok.(string)
		if !ok || seen[name] {
			return r, errReplyShape
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return r, errReplyShape
		}
		switch name {
		case nodeName:
			r.node = raw
		case "error_response":
			r.errNode = raw
		case "sign":
			if json.Unmarshal(raw, &r.sign) != nil {
				return r, errReplyShape
			}
			r.hasSign = true
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return r, errReplyShape
	}
	if _, err := dec.Token(); err != io.EOF {
		return r, errReplyShape
	}
	return r, nil
}
