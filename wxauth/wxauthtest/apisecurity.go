package wxauthtest

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"time"
)

// The API security mode (服务端 API 签名加密) as WeChat's guide specifies it,
// https://developers.weixin.qq.com/miniprogram/dev/server/getting_started/api_signature,
// on the fake's APIs whose pages carry the note "支持加密请求":
// getuserphonenumber and checkencryptedmsg. The fake has its own
// implementation, not wxauth's, so that end-to-end tests check one against
// the other.

// APISecurityMaxSkew is how far a request's Wechatmp-TimeStamp may be from
// the server's clock before the fake refuses it with errcode 40240 (超时的数据,
// stale data): the 300 seconds WeChat's guide gives replies. WeChat does not
// publish the window it grants requests.
const APISecurityMaxSkew = 300 * time.Second

// securedPaths are the paths the API security mode covers.
var securedPaths = map[string]bool{PathPhoneNumber: true, PathCheckEncrypted: true}

// APISecurityKeys is what the console of a mini-program shows for its API
// security mode, as the fake made them for [WithAPISecurity]: the client's
// configuration (wxauth.APISecurity has the same fields).
type APISecurityKeys struct {
	// KeySN is the number of the symmetric key.
	KeySN string
	// Key is the AES-256 key, base64.
	Key string
	// PrivateKey is the app's RSA private key, PEM (PKCS#8). The fake
	// holds its public half, as WeChat holds the uploaded one.
	PrivateKey string
	// CertificateSN is the serial number of the platform certificate.
	CertificateSN string
	// Certificate is the platform certificate, PEM, whose key signs the
	// fake's replies.
	Certificate string
}

// platformCert is a platform certificate and its private key.
type platformCert struct {
	serial string
	pem    string
	key    *rsa.PrivateKey
}

// apiSecurity is the fake's state of the mode. keySN, aead and appKey never
// change; current and deprecated change under s.mu.
type apiSecurity struct {
	keySN      string
	key        string
	aead       cipher.AEAD
	appKey     *rsa.PrivateKey
	appKeyPEM  string
	current    platformCert
	deprecated *platformCert // during a rotation
}

// WithAPISecurity turns on the API security mode for the APIs that support
// it: getuserphonenumber and checkencryptedmsg. The server makes the keys
// (an AES-256 key, the app's RSA key pair and a platform certificate; two
// 2048-bit keys take a moment) and [Server.APISecurity] hands out the
// client's part. On those APIs a request must then come encrypted and
// signed, or be refused with the errcodes of WeChat's guide: a plain body
// 934011 (request_body is required), no Wechatmp-Appid 40233 or another one
// 40236, no Wechatmp-TimeStamp 40231 or one more than [APISecurityMaxSkew]
// from the server's clock 40240, no Wechatmp-Signature 40232 or a bad one
// 40234, a body that does not decrypt 40235. These refusals come unsigned
// (WeChat's guide does not say how it sends them). Every other reply there comes encrypted and
// signed with the platform certificate. The other APIs are unaffected, as at
// WeChat.
func WithAPISecurity() Option {
	return func(c *config) error {
		c.apiSecurity = true
		return nil
	}
}

// newAPISecurity makes the keys of the mode.
func newAPISecurity(now time.Time) (*apiSecurity, error) {
	key := randomBytes(32)
	block, _ := aes.NewCipher(key) // 32 bytes: cannot fail
	aead, _ := cipher.NewGCM(block)
	appKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("wxauthtest: api security: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(appKey)
	if err != nil {
		return nil, fmt.Errorf("wxauthtest: api security: %w", err)
	}
	cert, err := newPlatformCert(now)
	if err != nil {
		return nil, err
	}
	return &apiSecurity{
		keySN:     hex.EncodeToString(randomBytes(16)),
		key:       base64.StdEncoding.EncodeToString(key),
		aead:      aead,
		appKey:    appKey,
		appKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		current:   cert,
	}, nil
}

// newPlatformCert makes a self-signed platform certificate valid from now
// for five years, as WeChat's are.
func newPlatformCert(now time.Time) (platformCert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return platformCert{}, fmt.Errorf("wxauthtest: platform certificate: %w", err)
	}
	serial := new(big.Int).SetBytes(randomBytes(16))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "wxauthtest platform certificate", Organization: []string{"wxauthtest"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return platformCert{}, fmt.Errorf("wxauthtest: platform certificate: %w", err)
	}
	return platformCert{
		// The console's number of the certificate, which is not the
		// certificate's own serial number (the guide: 非证书内序列号).
		serial: hex.EncodeToString(randomBytes(16)),
		pem:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:    key,
	}, nil
}

// APISecurity returns the client's configuration of the API security mode
// and true, or false when the server runs without [WithAPISecurity]. During
// a rotation ([Server.RotatePlatformCertificate]) it names the new
// certificate.
func (s *Server) APISecurity() (APISecurityKeys, bool) {
	if s.sec == nil {
		return APISecurityKeys{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return APISecurityKeys{
		KeySN:         s.sec.keySN,
		Key:           s.sec.key,
		PrivateKey:    s.sec.appKeyPEM,
		CertificateSN: s.sec.current.serial,
		Certificate:   s.sec.current.pem,
	}, true
}

// RotatePlatformCertificate replaces the platform certificate, as WeChat
// does before the old one expires: from now on replies are signed with the
// new one (Wechatmp-Serial, Wechatmp-Signature) and, beside it, with the
// old one (Wechatmp-Serial-Deprecated, Wechatmp-Signature-Deprecated), so
// that clients that know either verify. It returns the new certificate's
// serial and PEM, and an error without [WithAPISecurity].
func (s *Server) RotatePlatformCertificate() (serial, certificate string, err error) {
	if s.sec == nil {
		return "", "", errors.New("wxauthtest: RotatePlatformCertificate: the server runs without WithAPISecurity")
	}
	cert, err := newPlatformCert(s.now())
	if err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.sec.current
	s.sec.deprecated, s.sec.current = &old, cert
	return cert.serial, cert.pem, nil
}

// secEnvelope is an encrypted body.
type secEnvelope struct {
	IV      string `json:"iv"`
	Data    string `json:"data"`
	AuthTag string `json:"authtag"`
}

// secAAD is the additional authenticated data: urlpath|appid|timestamp|sn.
func secAAD(urlPath, appID string, ts int64, sn string) []byte {
	return fmt.Appendf(nil, "%s|%s|%d|%s", urlPath, appID, ts, sn)
}

// secDigest is the SHA-256 of the signed string: urlpath\nappid\ntimestamp\nbody.
func secDigest(urlPath, appID string, ts int64, body []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n", urlPath, appID, ts)
	h.Write(body)
	return h.Sum(nil)
}

// serveSecured serves a request to a secured API: it checks and decrypts
// the request, has ep answer the plaintext, and writes the answer encrypted
// and signed.
func (s *Server) serveSecured(w http.ResponseWriter, r *http.Request, ep endpoint, body []byte) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	urlPath := scheme + "://" + r.Host + r.URL.Path
	plain, code := s.openRequest(r.Header, body, urlPath)
	if code != 0 {
		s.writeJSON(w, s.apiError(code))
		return
	}
	reply := ep.handle(s, r.URL.Query(), plain)
	s.writeSealed(w, reply, urlPath)
}

// openRequest checks a secured request and returns its plaintext, or the
// errcode of its refusal.
func (s *Server) openRequest(h http.Header, body []byte, urlPath string) ([]byte, int) {
	var env secEnvelope
	if json.Unmarshal(body, &env) != nil || env.IV == "" || env.Data == "" || env.AuthTag == "" {
		return nil, 934011 // request_body is required: not an encrypted body
	}
	switch {
	case h.Get("Wechatmp-Appid") == "":
		return nil, 40233
	case h.Get("Wechatmp-Appid") != s.appID:
		return nil, 40236
	case h.Get("Wechatmp-TimeStamp") == "":
		return nil, 40231
	case h.Get("Wechatmp-Signature") == "":
		return nil, 40232
	}
	ts, err := strconv.ParseInt(h.Get("Wechatmp-TimeStamp"), 10, 64)
	if err != nil {
		return nil, 40240
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > APISecurityMaxSkew || d < -APISecurityMaxSkew {
		return nil, 40240
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get("Wechatmp-Signature"))
	if err != nil || rsa.VerifyPSS(&s.sec.appKey.PublicKey, crypto.SHA256, secDigest(urlPath, s.appID, ts, body), sig,
		&rsa.PSSOptions{SaltLength: 32}) != nil {
		return nil, 40234
	}
	iv, err1 := base64.StdEncoding.DecodeString(env.IV)
	data, err2 := base64.StdEncoding.DecodeString(env.Data)
	tag, err3 := base64.StdEncoding.DecodeString(env.AuthTag)
	if err1 != nil || err2 != nil || err3 != nil || len(iv) != s.sec.aead.NonceSize() || len(tag) != s.sec.aead.Overhead() {
		return nil, 40235
	}
	plain, err := s.sec.aead.Open(nil, iv, append(data, tag...), secAAD(urlPath, s.appID, ts, s.sec.keySN))
	if err != nil {
		return nil, 40235
	}
	var inner struct {
		N         string `json:"_n"`
		AppID     string `json:"_appid"`
		Timestamp int64  `json:"_timestamp"`
	}
	if json.Unmarshal(plain, &inner) != nil || inner.N == "" || inner.AppID != s.appID || inner.Timestamp != ts {
		return nil, 40235
	}
	return plain, 0
}

// writeSealed writes reply encrypted and signed, as WeChat answers a secured
// request.
func (s *Server) writeSealed(w http.ResponseWriter, reply any, urlPath string) {
	b, _ := json.Marshal(reply) // replies are plain structs: cannot fail
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(b, &fields)
	s.mu.Lock()
	now := s.now().Unix()
	current, deprecated := s.sec.current, s.sec.deprecated
	s.mu.Unlock()
	fields["_n"], _ = json.Marshal(base64.RawStdEncoding.EncodeToString(randomBytes(16)))
	fields["_appid"], _ = json.Marshal(s.appID)
	fields["_timestamp"] = strconv.AppendInt(nil, now, 10)
	plain, _ := json.Marshal(fields)
	iv := randomBytes(s.sec.aead.NonceSize())
	sealed := s.sec.aead.Seal(nil, iv, plain, secAAD(urlPath, s.appID, now, s.sec.keySN))
	n := len(sealed) - s.sec.aead.Overhead()
	body, _ := json.Marshal(secEnvelope{
		IV:      base64.StdEncoding.EncodeToString(iv),
		Data:    base64.StdEncoding.EncodeToString(sealed[:n]),
		AuthTag: base64.StdEncoding.EncodeToString(sealed[n:]),
	})
	digest := secDigest(urlPath, s.appID, now, body)
	sign := func(key *rsa.PrivateKey) string {
		sig, _ := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest, &rsa.PSSOptions{SaltLength: 32})
		return base64.StdEncoding.EncodeToString(sig)
	}
	h := w.Header()
	h.Set("Wechatmp-Appid", s.appID)
	h.Set("Wechatmp-TimeStamp", strconv.FormatInt(now, 10))
	h.Set("Wechatmp-Serial", current.serial)
	h.Set("Wechatmp-Signature", sign(current.key))
	if deprecated != nil {
		h.Set("Wechatmp-Serial-Deprecated", deprecated.serial)
		h.Set("Wechatmp-Signature-Deprecated", sign(deprecated.key))
	}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// isSecured reports whether a request to path goes through the mode.
func (s *Server) isSecured(path string) bool { return s.sec != nil && securedPaths[path] }
