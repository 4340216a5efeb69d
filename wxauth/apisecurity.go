package wxauth

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wxmp/miniauth/internal/engine"
	"github.com/wxmp/miniauth/internal/redact"
)

// WeChat's API security mode (服务端 API 签名加密), as its guide specifies it:
// https://developers.weixin.qq.com/miniprogram/dev/server/getting_started/api_signature
//
//	request body    {"iv", "data", "authtag"}: AES-256-GCM, 12-byte iv, 16-byte tag, each base64
//	AAD             urlpath|appid|timestamp|sn (urlpath: scheme, host and path, no query)
//	plaintext       the API's body and query parameters except access_token, with _n, _appid, _timestamp
//	signature       base64 RSASSA-PSS (SHA-256, salt 32) over urlpath\nappid\ntimestamp\nbody
//	headers         Wechatmp-Appid, Wechatmp-TimeStamp, Wechatmp-Signature
//	response        the same envelope, AAD with the response's timestamp, signed by the platform
//	                certificate named in Wechatmp-Serial (during a rotation also
//	                Wechatmp-Serial-Deprecated with Wechatmp-Signature-Deprecated)
//
// The older page https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/api_security.html
// wrote the signed string with the key's number after the appid
// (urlpath\nappid\nsn\ntimestamp\npostdata), and a draft of WxJava inserts a
// key number after the timestamp. The guide above writes it without
// ("urlpath\n appid\n timestamp\n postdata"), and its worked example (the
// request to /wxa/getuserriskrank with its published key and signature)
// verifies only over the string without any number:
// TestAPISecurityGuideExampleSignedString settles it.

// Headers of the API security mode.
const (
	headerAppID               = "Wechatmp-Appid"
	headerTimestamp           = "Wechatmp-TimeStamp"
	headerSignature           = "Wechatmp-Signature"
	headerSerial              = "Wechatmp-Serial"
	headerSerialDeprecated    = "Wechatmp-Serial-Deprecated"
	headerSignatureDeprecated = "Wechatmp-Signature-Deprecated"
)

// APISecurityMaxAge is how old a signed reply of WeChat may be, by the
// App's clock ([WithClock]), before the API security mode refuses it as a
// replay: the guide's 300 seconds.
const APISecurityMaxAge = 300 * time.Second

// apiSecurityPaths are the paths this package calls whose page carries
// WeChat's note "支持加密请求" (supports encrypted requests):
// getuserphonenumber
// (https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/phone-number/api_getphonenumber.html)
// and checkencryptedmsg
// (https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/basic-info/api_checkencrypteddata.html).
// jscode2session, checksession, resetusersessionkey, token and stable_token
// have no such note and are sent as ever.
var apiSecurityPaths = [...]string{"/wxa/business/getuserphonenumber", pathCheckEncryptedMsg}

// ErrAPISecurity means a reply in the API security mode ([WithAPISecurity])
// was refused: its signature does not verify with a configured platform
// certificate, it is older than [APISecurityMaxAge], it does not decrypt,
// or it is a success without a signature. Such an error also matches
// [ErrBadResponse].
var ErrAPISecurity = errors.New("wxauth: api security mode: reply refused")

// APISecurity is what the mini-program's console (开发 - 开发管理 - 开发设置 -
// API安全) shows for the API security mode, for [WithAPISecurity]. Only
// AES256_GCM with RSAwithSHA256 is supported: SM4_GCM with SM2withSM3 is
// left out, since WeChat publishes no worked example to test it against.
type APISecurity struct {
	// KeySN is the number (编号) of the symmetric key.
	KeySN string
	// Key is the symmetric key (API对称密钥), base64 of 32 bytes as the
	// console shows it.
	Key string
	// PrivateKey is the app's RSA private key (the pair's public half is
	// the one uploaded), PEM, PKCS#1 or PKCS#8, 2048 bits or more.
	PrivateKey string
	// Certificates are WeChat's platform certificates (平台证书), PEM, by
	// their serial number (证书编号) as the console and the Wechatmp-Serial
	// header show it. Give the new one beside the old one when WeChat
	// rotates them: a reply is verified with the certificate it names, or
	// during a rotation with the deprecated one it also names.
	Certificates map[string]string
}

// String returns the configuration without its secrets: the key SN and the
// certificate serials, never Key or PrivateKey. GoString and Format print
// the same, whatever the verb, so that a logged configuration leaks nothing.
func (s APISecurity) String() string {
	serials := make([]string, 0, len(s.Certificates))
	for sn := range s.Certificates {
		serials = append(serials, sn)
	}
	slices.Sort(serials)
	return fmt.Sprintf("wxauth.APISecurity{KeySN: %q, Key: %s, PrivateKey: %s, Certificates: %q}",
		s.KeySN, redacted(s.Key), redacted(s.PrivateKey), serials)
}

// GoString is String, for %#v.
func (s APISecurity) GoString() string { return s.String() }

// Format prints String whatever the verb.
func (s APISecurity) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// redacted shows whether a secret is set, never the secret.
func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return redact.Placeholder
}

// WithAPISecurity turns on WeChat's API security mode (服务端 API 签名加密)
// for the calls whose API supports it: [App.GetPhoneNumber] and
// [App.CheckEncryptedData]. Their requests are encrypted (AES-256-GCM) and
// signed with the app's private key, and the replies are refused unless
// their signature verifies with one of the platform certificates, they are
// at most [APISecurityMaxAge] old and they decrypt ([ErrAPISecurity]);
// WeChat's refusals of a request it cannot verify (40230 to 40240, 934011)
// may come unsigned and are [ErrRequestRejected] or, for keys missing in
// the console (40238, 40239), [ErrNotAllowed]. Other calls (jscode2session,
// access tokens, checksession) are sent as ever: WeChat does not support the
// mode on them.
//
// It is a layer around the client's transport ([WithHTTPClient]); the
// address signed is the request's scheme, host and path, so a proxy given
// with [WithBaseURL] must forward to WeChat's address unchanged for its
// signatures to verify. A key, certificate or serial that does not parse is
// an error of [New].
func WithAPISecurity(s APISecurity) Option {
	return func(c *config) error {
		sec, err := newAPISecurity(s)
		if err != nil {
			return err
		}
		c.apiSecurity = sec
		return nil
	}
}

// apiSecurity is a parsed [APISecurity].
type apiSecurity struct {
	keySN string
	aead  cipher.AEAD
	key   *rsa.PrivateKey
	certs map[string]*rsa.PublicKey
}

func newAPISecurity(s APISecurity) (*apiSecurity, error) {
	const prefix = "wxauth: api security: "
	if !printable(s.KeySN) {
		return nil, errors.New(prefix + "key SN must be 1 to 128 bytes of printable ASCII")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Key))
	if err != nil || len(key) != 32 {
		return nil, errors.New(prefix + "key must be base64 of 32 bytes")
	}
	block, _ := aes.NewCipher(key) // 32 bytes: cannot fail
	aead, _ := cipher.NewGCM(block)
	priv, err := parsePrivateKey(s.PrivateKey)
	if err != nil {
		return nil, errors.New(prefix + "private key: " + err.Error())
	}
	if len(s.Certificates) == 0 {
		return nil, errors.New(prefix + "at least one platform certificate is needed")
	}
	certs := make(map[string]*rsa.PublicKey, len(s.Certificates))
	for sn, p := range s.Certificates {
		if !printable(sn) {
			return nil, errors.New(prefix + "certificate serials must be 1 to 128 bytes of printable ASCII")
		}
		pub, err := parseCertificate(p)
		if err != nil {
			return nil, fmt.Errorf(prefix+"certificate %q: %s", sn, err)
		}
		certs[sn] = pub
	}
	return &apiSecurity{keySN: s.KeySN, aead: aead, key: priv, certs: certs}, nil
}

// printable reports whether s is 1 to 128 bytes of printable ASCII.
func printable(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// parsePrivateKey parses a PEM RSA private key, PKCS#1 or PKCS#8, of 2048
// bits or more. Its errors never quote the key.
func parsePrivateKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("not PEM")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an RSA key (SM2 is not supported)")
		}
		key = rk
	} else {
		return nil, errors.New("neither PKCS#1 nor PKCS#8")
	}
	if key.N.BitLen() < 2048 {
		return nil, errors.New("under 2048 bits")
	}
	return key, nil
}

// parseCertificate returns the RSA public key of a PEM certificate.
func parseCertificate(p string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errors.New("does not parse")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA certificate (SM2 is not supported)")
	}
	return pub, nil
}

// securityError is a reply refused in the API security mode.
type securityError struct{ why string }

func (e *securityError) Error() string { return "wxauth: api security mode: " + e.why }

func (e *securityError) Is(target error) bool {
	return target == ErrAPISecurity || target == ErrBadResponse
}

// envelope is the encrypted body of a request or a reply.
type envelope struct {
	IV      string `json:"iv"`
	Data    string `json:"data"`
	AuthTag string `json:"authtag"`
}

// aad returns the additional authenticated data of a message: urlpath|appid|timestamp|sn.
func aad(urlPath, appID string, ts int64, sn string) []byte {
	return []byte(urlPath + "|" + appID + "|" + strconv.FormatInt(ts, 10) + "|" + sn)
}

// signedString returns what is signed: urlpath\nappid\ntimestamp\nbody.
func signedString(urlPath, appID string, ts int64, body []byte) []byte {
	b := make([]byte, 0, len(urlPath)+len(appID)+24+len(body))
	b = append(b, urlPath...)
	b = append(b, '\n')
	b = append(b, appID...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '\n')
	return append(b, body...)
}

// seal encrypts plaintext into an envelope's JSON.
func (s *apiSecurity) seal(plaintext, ad []byte) []byte {
	iv := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(iv) // never fails (Go 1.24+)
	sealed := s.aead.Seal(nil, iv, plaintext, ad)
	n := len(sealed) - s.aead.Overhead()
	b, _ := json.Marshal(envelope{ // cannot fail: three strings
		IV:      base64.StdEncoding.EncodeToString(iv),
		Data:    base64.StdEncoding.EncodeToString(sealed[:n]),
		AuthTag: base64.StdEncoding.EncodeToString(sealed[n:]),
	})
	return b
}

// open decrypts an envelope's JSON.
func (s *apiSecurity) open(body, ad []byte) ([]byte, error) {
	var env envelope
	if json.Unmarshal(body, &env) != nil {
		return nil, errors.New("not an encrypted envelope")
	}
	iv, err1 := base64.StdEncoding.DecodeString(env.IV)
	data, err2 := base64.StdEncoding.DecodeString(env.Data)
	tag, err3 := base64.StdEncoding.DecodeString(env.AuthTag)
	if err1 != nil || err2 != nil || err3 != nil || len(iv) != s.aead.NonceSize() || len(tag) != s.aead.Overhead() {
		return nil, errors.New("not an encrypted envelope")
	}
	plain, err := s.aead.Open(nil, iv, append(data, tag...), ad)
	if err != nil {
		return nil, errors.New("does not decrypt")
	}
	return plain, nil
}

// sign returns the base64 RSASSA-PSS signature of the signed string.
func (s *apiSecurity) sign(urlPath, appID string, ts int64, body []byte) string {
	digest := sha256.Sum256(signedString(urlPath, appID, ts, body))
	sig, _ := rsa.SignPSS(rand.Reader, s.key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: 32})
	return base64.StdEncoding.EncodeToString(sig)
}

// verify checks a base64 RSASSA-PSS signature with pub.
func verify(pub *rsa.PublicKey, urlPath, appID string, ts int64, body []byte, sig string) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	digest := sha256.Sum256(signedString(urlPath, appID, ts, body))
	return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], raw, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
}

// secureTransport speaks the API security mode on the requests to the
// wrapped addresses and passes the others to next untouched.
type secureTransport struct {
	sec     *apiSecurity
	appID   string
	next    http.RoundTripper
	now     func() time.Time
	wrapped map[string]bool // scheme://host/path of the wrapped APIs
}

// newSecureTransport wraps next for the wrapped paths under base.
func newSecureTransport(sec *apiSecurity, appID, base string, next http.RoundTripper, now func() time.Time) *secureTransport {
	t := &secureTransport{sec: sec, appID: appID, next: next, now: now, wrapped: make(map[string]bool, len(apiSecurityPaths))}
	for _, p := range apiSecurityPaths {
		t.wrapped[base+p] = true
	}
	return t
}

// RoundTrip implements http.RoundTripper.
func (t *secureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	urlPath := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	if !t.wrapped[urlPath] || req.Method != http.MethodPost {
		return t.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, engine.MaxBodyLen+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ts := t.now().Unix()
	plain, err := t.plaintext(body, req.URL.Query(), ts)
	if err != nil {
		return nil, err
	}
	sealed := t.sec.seal(plain, aad(urlPath, t.appID, ts, t.sec.keySN))
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(sealed))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(sealed)), nil }
	out.ContentLength = int64(len(sealed))
	out.Header.Set("Content-Type", "application/json")
	out.Header.Set(headerAppID, t.appID)
	out.Header.Set(headerTimestamp, strconv.FormatInt(ts, 10))
	out.Header.Set(headerSignature, t.sec.sign(urlPath, t.appID, ts, sealed))
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if err := t.openReply(resp, urlPath); err != nil {
		return nil, err
	}
	return resp, nil
}

// plaintext returns the request's plaintext: the fields of its JSON body and
// its query parameters other than access_token, with _n, _appid and
// _timestamp.
func (t *secureTransport) plaintext(body []byte, q url.Values, ts int64) ([]byte, error) {
	fields := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &fields) != nil {
		return nil, errors.New("wxauth: api security mode: the request body is not a JSON object")
	}
	for k, v := range q {
		if k == "access_token" || len(v) == 0 {
			continue
		}
		b, _ := json.Marshal(v[0]) // a string: cannot fail
		fields[k] = b
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	fields["_n"], _ = json.Marshal(base64.RawStdEncoding.EncodeToString(nonce[:]))
	fields["_appid"], _ = json.Marshal(t.appID)
	fields["_timestamp"] = strconv.AppendInt(nil, ts, 10)
	return json.Marshal(fields)
}

// openReply verifies and decrypts a reply to a wrapped request in place. A
// reply that is not a 200 is left to the App; an unsigned one is kept only
// when it is an error reply (WeChat's refusal of a request it could not
// verify), never a success.
func (t *secureTransport) openReply(resp *http.Response, urlPath string) error {
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, engine.MaxBodyLen+1))
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	if len(body) > engine.MaxBodyLen {
		return &securityError{why: fmt.Sprintf("reply over %d bytes", engine.MaxBodyLen)}
	}
	plain, err := t.verifyReply(resp.Header, body, urlPath)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(plain))
	resp.ContentLength = int64(len(plain))
	resp.Header.Del("Content-Length")
	return nil
}

// verifyReply returns the plaintext of a reply to a wrapped request.
func (t *secureTransport) verifyReply(h http.Header, body []byte, urlPath string) ([]byte, error) {
	sig, serial := h.Get(headerSignature), h.Get(headerSerial)
	if sig == "" && h.Get(headerSignatureDeprecated) == "" {
		if !isErrorReply(body) {
			return nil, &securityError{why: "an unsigned reply that is not an error"}
		}
		return body, nil
	}
	ts, err := strconv.ParseInt(h.Get(headerTimestamp), 10, 64)
	if err != nil {
		return nil, &securityError{why: "reply without a timestamp"}
	}
	if app := h.Get(headerAppID); app != "" && app != t.appID {
		return nil, &securityError{why: "reply for another appid"}
	}
	pub := t.sec.certs[serial]
	if pub == nil { // a rotation: the new certificate is not configured yet
		if pub = t.sec.certs[h.Get(headerSerialDeprecated)]; pub != nil {
			sig = h.Get(headerSignatureDeprecated)
		}
	}
	if pub == nil {
		return nil, &securityError{why: "reply signed with an unknown platform certificate (configure its serial in APISecurity.Certificates)"}
	}
	if !verify(pub, urlPath, t.appID, ts, body, sig) {
		return nil, &securityError{why: "reply signature does not verify"}
	}
	if age := t.now().Sub(time.Unix(ts, 0)); age > APISecurityMaxAge {
		return nil, &securityError{why: fmt.Sprintf("reply is %s old, over %s", age.Truncate(time.Second), APISecurityMaxAge)}
	}
	plain, err := t.sec.open(body, aad(urlPath, t.appID, ts, t.sec.keySN))
	if err != nil {
		return nil, &securityError{why: "reply " + err.Error()}
	}
	var inner struct {
		AppID     string `json:"_appid"`
		Timestamp int64  `json:"_timestamp"`
	}
	if json.Unmarshal(plain, &inner) != nil || inner.AppID != t.appID || inner.Timestamp != ts {
		return nil, &securityError{why: "decrypted reply names another appid or timestamp"}
	}
	return plain, nil
}

// isErrorReply reports whether body is a JSON object with a non-zero
// errcode and nothing else than errcode and errmsg.
func isErrorReply(body []byte) bool {
	var r map[string]json.RawMessage
	if json.Unmarshal(body, &r) != nil {
		return false
	}
	var code errCode
	if json.Unmarshal(r["errcode"], &code) != nil || code == 0 {
		return false
	}
	for k := range r {
		if k != "errcode" && k != "errmsg" {
			return false
		}
	}
	return true
}
