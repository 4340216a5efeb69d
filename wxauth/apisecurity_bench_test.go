package wxauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// BenchmarkAPISecurity measures what the API security mode adds to a call
// on the client (the request's plaintext, sealing and signing; the reply's
// verification and opening, here the guide's reply) against its floor, the
// RSA-2048 PSS signature and verification that no implementation avoids.
func BenchmarkAPISecurity(b *testing.B) {
	sec, err := newAPISecurity(APISecurity{KeySN: guideKeySN, Key: guideKey, PrivateKey: guidePrivateKey,
		Certificates: map[string]string{guideCertSN: guideCertificate}})
	if err != nil {
		b.Fatal(err)
	}
	tr := newSecureTransport(sec, guideAppID, "https://api.weixin.qq.com", http.DefaultTransport,
		func() time.Time { return time.Unix(guideRespTS, 0) })
	h := http.Header{}
	h.Set(headerAppID, guideAppID)
	h.Set(headerTimestamp, strconv.Itoa(guideRespTS))
	h.Set(headerSerial, guideCertSN)
	h.Set(headerSignature, guideRespSig)
	body := []byte(`{"code":"e31968a7f94cc5ee25fafc2aef2773f0","openid":"oEWzBfmdLqhFS2mTXCo2E4Y9gJAM"}`)
	q := url.Values{"access_token": {"ACCESS_TOKEN"}}
	b.Run("Layer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			plain, err := tr.plaintext(body, q, guideReqTS)
			if err != nil {
				b.Fatal(err)
			}
			sealed := sec.seal(plain, aad(guideURLPath, guideAppID, guideReqTS, guideKeySN))
			_ = sec.sign(guideURLPath, guideAppID, guideReqTS, sealed)
			if _, err := tr.verifyReply(h, []byte(guideRespEnvelope), guideURLPath); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RSAFloor", func(b *testing.B) {
		b.ReportAllocs()
		d := sha256.Sum256(body)
		for b.Loop() {
			sig, err := rsa.SignPSS(rand.Reader, sec.key, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: 32})
			if err != nil {
				b.Fatal(err)
			}
			if err := rsa.VerifyPSS(&sec.key.PublicKey, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
