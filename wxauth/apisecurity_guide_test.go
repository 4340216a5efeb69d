package wxauth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The worked example of WeChat's guide to the API security mode, "服务端 API
// 签名加密指南",
// https://developers.weixin.qq.com/miniprogram/dev/server/getting_started/api_signature
// (its examples section: the request to /wxa/getuserriskrank): the keys,
// certificate, plaintexts, envelopes and signatures it publishes, verbatim.
// They come from WeChat, not from this package, so they pin the wire: a
// round trip of this package's own could not.
const (
	guideAppID   = "wxba6223c06417af7b"
	guideURLPath = "https://api.weixin.qq.com/wxa/getuserriskrank"
	guideKey     = "otUpngOjU+nVQaWJIC3D/yMLV17RKaP6t4Ot9tbnzLY="
	guideKeySN   = "fa05fe1e5bcc79b81ad5ad4b58acf787"
	guideCertSN  = "79ba700ea147819f640941bceb38b1d1"
	guideReqTS   = 1635927954
	guideRespTS  = 1635927956
	guideReqSig  = "wcSSWHZunjz9VKl9q+If9deiyECXDAELfAJNZ4+5T+NhFr8zfhkwdQtlgQ7nN5xs99R57La9UjBTRBGge2KYyshWtw7HIMPAqWNsnpHvx0b2f7s6Bt7OpfOQLlIfNgepgTVmUwrqW8/7A12szj7tCe/bRFilwnaX6N0w4duHlfL7ic7IIZXouvy9dLRAa5GtEk1eD/LPWRiKh0SvJ3znPY/pSiQW9zSkXVdj9UGGM8qcKLzPGJ7gSmt3ZOPkFapk9wqFmhJwQj//xN5+hUlr2UiNPMNSHve5Y2ADLsNHqk5t7RfAZ8nW9/8lzhVt4t+toy1FeehxCGIC8qgmjIl1hg=="
	guideRespSig = "Ht0VfQkkEweJ4hU266C14Aj64H9AXfkwNi5zxUZETCvR2svU1ZYdosDhFX/voLj1TyszqKsVxAlENGt7PPZZ8RQX7jnA4SKhiPUhW4LTbyTenisHJ+ohSfDjYnXavjQsBHspFS+BlPHuSSJ2xyQzw1+HuC6nid09ZL4FnGSYo4OI5MJrSb9xLzIVZMIDuUQchGKi/KaB1KzxECLEZcfjqbAgmxC7qOmuBLyO1WkHYDM95NJrHJWba5xv4wrwPru9yYTJSNRnlM+zrW5w9pOubC4Jtj3szTAEuOz9AcqUmgaAvMLNAIa8hfODLRe3n/cu4SgYlN/ZkNRU4QXVNbPGMg=="

	guideReqEnvelope  = `{"iv":"fmW/zNxXlytUZBgj","data":"0IDVdrPtSPF/Oe2CTXCV2vVNPbVJdJlP2WaTMQnoYLh5iCrrSNfQFh25EnStDMf0hLlVNBCZQtf9NaV0m4aRA4AAYIO7oR/Ge+4yY4EmZp5EVPB42xjScgMx5X3D4VdLCfynXIUKUtZHZvk1zmLVE3RauzJgiM1BB1CPmwcENo3MTJ0z8Vfkf5tMv54kOXobDLlV5rfqKdAX7gM/rP82DgZdt9vvZX44ipdbHIjJvw83ZXAFtvftdVw2Qd8=","authtag":"5qeM/2vZv+6KtScN94IpMg=="}`
	guideRespEnvelope = `{"iv":"r2WDQt56rEAmMuoR","data":"HExs66Ik3el+iM4IpeQ7SMEN934FRLFYOd3EmeaIrpP4EPTHckoco6O+PaoRZRa3lqaPRZT7r52f7LUok6gLxc6cdR8C4vpIIfh4xfLC4L7FNy9GbuMK1hcoi8b7gkWJcwZMkuCFNEDmqn3T49oWzAQOrY4LZnnnykv6oUJotdAsnKvmoJkLK7hRh7M2B1d2UnTnRuoIyarXc5Iojwoghx4BOvnV","authtag":"z2BFD8QctKXTuBlhICGOjQ=="}`
	guideReqPlain     = `{"_n":"o89QaPVsRu1yppIZzvSZc4","_appid":"wxba6223c06417af7b","_timestamp":1635927954,"appid":"wxba6223c06417af7b","openid":"oEWzBfmdLqhFS2mTXCo2E4Y9gJAM","scene":0,"client_ip":"127.0.0.1"}`
	guideRespPlain    = `{"_n":"ShYZpqdVgY+yQVAxNSWhYg","_appid":"wxba6223c06417af7b","_timestamp":1635927956,"errcode":0,"errmsg":"getuserriskrank succ","risk_rank":0,"unoin_id":2258658297}`

	guidePrivateKey = `-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA3FoQOmOl5/CF5hF7ta4EzCy2LaU3Eu2k9DBwQ73J82I53Sx9
LAgM1DH3IsYohRRx/BESfbdDI2powvr6QYKVIC+4Yavwg7gzhZRxWWmT1HruEADC
ZAgkUCu+9Il/9FPuitPSoIpBd07NqdkkRe82NBOfrKTdhge/5zd457fl7J81Q5VT
IxO8vvq7FSw7k6Jtv+eOjR6SZOWbbUO7f9r4UuUkXmvdGv21qiqtaO1EMw4tUCEL
zY73M7NpCH3RorlommYX3P6q0VrkDHrCE0/QMhmHsF+46E+IRcJ3wtEj3p/mO1Vo
CpEhawC1U728ZUTwWNEii8hPEhcNAZTKaQMaTQIDAQABAoIBAQCXv5p/a5KcyYKc
75tfgekh5wTLKIVmDqzT0evuauyCJTouO+4z/ZNAKuzEUO0kwPDCo8s1MpkU8boV
1Ru1M8WZNePnt65aN+ebbaAl8FRzNvltoeg9VXIUmBvYcjzhOVAE4V2jW7M8A9QU
zUpyswuED6OeFKfOHtYk2In2IipAqhfbyc6gn7uZSWTQsoO6hGBRQ7Ejx+vgwrbx
ZKVZ7UXbPHD0lOEPraA3PH/QUeUKpNwK2NXQoBxWcR283/HxFSAjjSSsGSBKsCnw
DN55P2FQ0HNi5YrwUNT9190NIXSeygaRy1b+D+yBfm+yE7/qXwHLZCHsjO+2tMSS
3KGjllTBAoGBAP9FPeYNKZuu5jt9RpZwXCc9E7Iz7bmM7zws6dun6dQH0xVVWFVm
iGIu07eqyB8HNagXseFzoXLV5EQx+3DaB0bAH+ZEpHGJJpAWSLusigssFUFuTvTF
w+rC5hxOfidMa6+93SU5pWeJb0zJF8PRDaJ3UmwlwpYubF17sT4PD6p9AoGBANz7
RlhRSFvggJjhEMpek3OIYWrrlRNO2MVcP7i/fGNTHhrw7OHcNGRof54QZ2Y0baL7
1vHNokbK2mnT+cQXY/gXMmcE/eV4xyRGYiIL9nBdrkLerc43EYPv+evDvgyji6+y
4np5cKqHrS8F+YzATk82Jt9HgdI2MvfbJTkSbmgRAoGAHNPL9rPb1An/VA6Ery6H
KaM7Gy/EE+U3ixsjWbvvqxMrIkieDh7jHftdy2sM6Hwe8hmi6+vr+pTvD0h5tbfZ
hILj11Q/Idc0NKdflVoZyMM0r0vuvLOsuVFDPUUb+AIoUxNk6vREmpmpqQk4ltN/
763779yfyef6MuBqFrEKut0CgYB9FfsuuOv1nfINF7EybDCZAETsiee7ozEPHnWv
dSzK6FytMV1VSBmcEI7UgUKWVu0MifOUsiq+WcsihmvmNLtQzoioSeoSP7ix7ulT
jmP0HQMsNPI7PW67uVZFv2pPqy/Bx8dtPlqpHN3KNV6Z7q0lJ2j/kHGK9UUKidDb
KnS2kQKBgHZ0cYzwh9YnmfXx9mimF57aQQ8aFc9yaeD5/3G2+a/FZcHtYzUdHQ7P
PS35blD17/NnhunHhuqakbgarH/LIFMHITCVuGQT4xS34kFVjFVhiT3cHfWyBbJ6
GbQuzzFxz/UKDDKf3/ON41k8UP20Gdvmv/+c6qQjKPayME81elus
-----END RSA PRIVATE KEY-----`

	guideCertificate = `-----BEGIN CERTIFICATE-----
MIID0jCCArqgAwIBAgIUeE+Yy7vM/o+eHHsfM+1bGJJEZTQwDQYJKoZIhvcNAQEL
BQAwXjELMAkGA1UEBhMCQ04xEzARBgNVBAoTClRlbnBheS5jb20xHTAbBgNVBAsT
FFRlbnBheS5jb20gQ0EgQ2VudGVyMRswGQYDVQQDExJUZW5wYXkuY29tIFJvb3Qg
Q0EwHhcNMjIwOTA1MDgzOTIyWhcNMjcwOTA0MDgzOTIyWjBkMRswGQYDVQQDDBJ3
eGQ5MzBlYTVkNWEyNThmNGYxFTATBgNVBAoMDFRlbmNlbnQgSW5jLjEOMAwGA1UE
CwwFV3hnTXAxCzAJBgNVBAYMAkNOMREwDwYDVQQHDAhTaGVuWmhlbjCCASIwDQYJ
KoZIhvcNAQEBBQADggEPADCCAQoCggEBAM5D9qlkCmk1kr3FpF0e9pc3kGsvz5RA
0/YRny9xPKIyV2UVMDZvRQ+mDHsiQQFE6etg457KFYSxTDKtItbdl6hJQVGeAvg0
mqPYE9SkHRGTfL/AnXRbKBG2GC2OcaPSAprsLOersjay2me+9pF8VHybV8aox78A
NsU75G/OO3V1iEE0s5Pmglqk8DEiw9gB/dGJzsNfXwzvyJyiUP9ZujYexyjsS+/Z
GdSOUkqL/th+16yHj8alcdyga6YGfWEDyWkt/i/B28cwx4nzwk8xgrurifPaLuMk
0+9wJQLCfAn/f7zyHrC8PcD1XvvRt9VBNMBASXs3710ODyyVf2lkMgkCAwEAAaOB
gTB/MAkGA1UdEwQCMAAwCwYDVR0PBAQDAgTwMGUGA1UdHwReMFwwWqBYoFaGVGh0
dHA6Ly9ldmNhLml0cnVzLmNvbS5jbi9wdWJsaWMvaXRydXNjcmw/Q0E9MUJENDIy
MEU1MERCQzA0QjA2QUQzOTc1NDk4NDZDMDFDM0U4RUJEMjANBgkqhkiG9w0BAQsF
AAOCAQEAL2MK9tYu+ljLVBlSbfEeaKyF07TN+G31Ya5NBzeS1ZCx4joUEIyACWmG
fUkKNKiKV+EMzxeEhKRso1Qif3E7Ipl+PQBoQw6OSR/jFHciYurnGR9CLkL03Zo1
qw1Xetv9OipsvlpA0SOWc207e/XpGdm8C7FMXM6bzvVp8I/STTjC1vqjIZu9WavI
RgGM4jyAPz2XogUq0BNijef8BXbbav9fAsXjHSwn5BQv4iLms3fiLm/eoyQ6dZ2R
oTudrlcyr1bG4vwETLmHF+3yfVp9dpvJ+lyfiviwDwyfa8t2WlJm27DuF4vWoxir
mjgj9tDutIFqxLIovLyg3uiAYtSQ/Q==
-----END CERTIFICATE-----`
)

func guideSecurity(t *testing.T) *apiSecurity {
	t.Helper()
	sec, err := newAPISecurity(APISecurity{KeySN: guideKeySN, Key: guideKey, PrivateKey: guidePrivateKey,
		Certificates: map[string]string{guideCertSN: guideCertificate}})
	require.NoError(t, err)
	return sec
}

// The open question of the signed string (does it carry the key's serial
// number?) settled by the guide's own example: its request signature
// verifies over urlpath\nappid\ntimestamp\nbody, and over no string with the
// symmetric key's SN inserted (after the appid, as the guide's text once
// wrote it, or after the timestamp, as a draft of WxJava does with a key SN).
func TestAPISecurityGuideExampleSignedString(t *testing.T) {
	t.Parallel()
	sec := guideSecurity(t)
	pub := &sec.key.PublicKey
	raw, err := base64.StdEncoding.DecodeString(guideReqSig)
	require.NoError(t, err)
	check := func(s string) error {
		d := sha256.Sum256([]byte(s))
		return rsa.VerifyPSS(pub, crypto.SHA256, d[:], raw, &rsa.PSSOptions{SaltLength: 32})
	}
	ts := strconv.Itoa(guideReqTS)
	require.NoError(t, check(guideURLPath+"\n"+guideAppID+"\n"+ts+"\n"+guideReqEnvelope), "the form without SN")
	require.Error(t, check(guideURLPath+"\n"+guideAppID+"\n"+guideKeySN+"\n"+ts+"\n"+guideReqEnvelope))
	require.Error(t, check(guideURLPath+"\n"+guideAppID+"\n"+ts+"\n"+guideKeySN+"\n"+guideReqEnvelope))
	// This package's own construction is the verifying one, salt 32 included.
	assert.True(t, verify(pub, guideURLPath, guideAppID, guideReqTS, []byte(guideReqEnvelope), guideReqSig))
	assert.Equal(t, guideURLPath+"\n"+guideAppID+"\n"+ts+"\n"+guideReqEnvelope,
		string(signedString(guideURLPath, guideAppID, guideReqTS, []byte(guideReqEnvelope))))
	// And what it signs, WeChat's verification (the same check) accepts.
	sig := sec.sign(guideURLPath, guideAppID, guideReqTS, []byte(guideReqEnvelope))
	assert.True(t, verify(pub, guideURLPath, guideAppID, guideReqTS, []byte(guideReqEnvelope), sig))
}

// The request's ciphertext decrypts, with the AAD urlpath|appid|timestamp|sn,
// into the published plaintext.
func TestAPISecurityGuideExampleRequest(t *testing.T) {
	t.Parallel()
	sec := guideSecurity(t)
	plain, err := sec.open([]byte(guideReqEnvelope), aad(guideURLPath, guideAppID, guideReqTS, guideKeySN))
	require.NoError(t, err)
	assert.Equal(t, guideReqPlain, string(plain))
	_, err = sec.open([]byte(guideReqEnvelope), aad(guideURLPath, guideAppID, guideReqTS+1, guideKeySN))
	assert.Error(t, err, "the timestamp is authenticated")
}

func guideReplyHeader() http.Header {
	h := http.Header{}
	h.Set(headerAppID, guideAppID)
	h.Set(headerTimestamp, strconv.Itoa(guideRespTS))
	h.Set(headerSerial, guideCertSN)
	h.Set(headerSignature, guideRespSig)
	return h
}

// The reply verifies with the platform certificate and decrypts into the
// published plaintext; tampered, stale or unknown-certificate replies do not.
func TestAPISecurityGuideExampleReply(t *testing.T) {
	t.Parallel()
	sec := guideSecurity(t)
	at := func(now time.Time) *secureTransport {
		return newSecureTransport(sec, guideAppID, "https://api.weixin.qq.com", http.DefaultTransport, func() time.Time { return now })
	}
	respAt := time.Unix(guideRespTS, 0)
	plain, err := at(respAt).verifyReply(guideReplyHeader(), []byte(guideRespEnvelope), guideURLPath)
	require.NoError(t, err)
	assert.Equal(t, guideRespPlain, string(plain))

	// 300 s old is still fresh; a second more is a replay.
	_, err = at(respAt.Add(APISecurityMaxAge)).verifyReply(guideReplyHeader(), []byte(guideRespEnvelope), guideURLPath)
	require.NoError(t, err)

	tampered := []byte(guideRespEnvelope)
	tampered[len(tampered)-5] ^= 1
	otherCert := guideReplyHeader()
	otherCert.Set(headerSerial, "00000000000000000000000000000000")
	otherApp := guideReplyHeader()
	otherApp.Set(headerAppID, "wx0000000000000000")
	otherTS := guideReplyHeader()
	otherTS.Set(headerTimestamp, strconv.Itoa(guideRespTS+1))
	unsigned := guideReplyHeader()
	unsigned.Del(headerSignature)
	tests := []struct {
		name string
		now  time.Time
		h    http.Header
		body []byte
	}{
		{"stale", respAt.Add(APISecurityMaxAge + time.Second), guideReplyHeader(), []byte(guideRespEnvelope)},
		{"tampered body", respAt, guideReplyHeader(), tampered},
		{"unknown certificate", respAt, otherCert, []byte(guideRespEnvelope)},
		{"another appid", respAt, otherApp, []byte(guideRespEnvelope)},
		{"another timestamp", respAt, otherTS, []byte(guideRespEnvelope)},
		{"unsigned envelope", respAt, unsigned, []byte(guideRespEnvelope)},
		{"unsigned success", respAt, http.Header{}, []byte(`{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"1"}}`)},
		{"unsigned error with a payload", respAt, http.Header{}, []byte(`{"errcode":1,"errmsg":"x","vaild":true}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := at(tt.now).verifyReply(tt.h, tt.body, guideURLPath)
			require.ErrorIs(t, err, ErrAPISecurity)
			require.ErrorIs(t, err, ErrBadResponse)
		})
	}

	// WeChat's refusal of a request it could not verify comes unsigned.
	plain, err = at(respAt).verifyReply(http.Header{}, []byte(`{"errcode":40234,"errmsg":"invalid signature rid: 1"}`), guideURLPath)
	require.NoError(t, err)
	assert.JSONEq(t, `{"errcode":40234,"errmsg":"invalid signature rid: 1"}`, string(plain))
}

// During a rotation WeChat signs with the new certificate and, beside it,
// with the deprecated one: a client that knows only the old one still
// verifies.
func TestAPISecurityRotationUsesTheDeprecatedSignature(t *testing.T) {
	t.Parallel()
	sec := guideSecurity(t)
	tr := newSecureTransport(sec, guideAppID, "https://api.weixin.qq.com", http.DefaultTransport,
		func() time.Time { return time.Unix(guideRespTS, 0) })
	h := guideReplyHeader()
	h.Set(headerSerial, "new-serial-not-configured-yet")
	h.Set(headerSignature, "bm90IHZlcmlmaWFibGUgd2l0aCB0aGUgb2xkIGNlcnQ=")
	h.Set(headerSerialDeprecated, guideCertSN)
	h.Set(headerSignatureDeprecated, guideRespSig)
	plain, err := tr.verifyReply(h, []byte(guideRespEnvelope), guideURLPath)
	require.NoError(t, err)
	assert.Equal(t, guideRespPlain, string(plain))
}

func TestWithAPISecurityRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good := APISecurity{KeySN: guideKeySN, Key: guideKey, PrivateKey: guidePrivateKey,
		Certificates: map[string]string{guideCertSN: guideCertificate}}
	tests := []struct {
		name   string
		modify func(*APISecurity)
	}{
		{"no key SN", func(s *APISecurity) { s.KeySN = "" }},
		{"key SN with a newline", func(s *APISecurity) { s.KeySN = "a\nb" }},
		{"key not base64", func(s *APISecurity) { s.Key = "not base64!" }},
		{"key of 16 bytes", func(s *APISecurity) { s.Key = "AAAAAAAAAAAAAAAAAAAAAA==" }},
		{"private key not PEM", func(s *APISecurity) { s.PrivateKey = "MIIEow" }},
		{"certificate as private key", func(s *APISecurity) { s.PrivateKey = guideCertificate }},
		{"no certificate", func(s *APISecurity) { s.Certificates = nil }},
		{"certificate not PEM", func(s *APISecurity) { s.Certificates = map[string]string{guideCertSN: "x"} }},
		{"private key as certificate", func(s *APISecurity) { s.Certificates = map[string]string{guideCertSN: guidePrivateKey} }},
		{"empty serial", func(s *APISecurity) { s.Certificates = map[string]string{"": guideCertificate} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := good
			tt.modify(&s)
			_, err := New(testAppID, "secret", WithAPISecurity(s))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "wxauth: api security: ")
			assert.NotContains(t, err.Error(), "MIIEow", "never quotes the key")
		})
	}
	_, err := New(testAppID, "secret", WithAPISecurity(good))
	require.NoError(t, err)
}

// FuzzAPISecurityReply hands arbitrary replies to the check of a reply in
// the API security mode: it must never panic, and must accept nothing but
// an unsigned error reply or what the platform certificate signed.
func FuzzAPISecurityReply(f *testing.F) {
	f.Add([]byte(guideRespEnvelope), guideRespSig, strconv.Itoa(guideRespTS), guideCertSN)
	f.Add([]byte(`{"errcode":40234,"errmsg":"invalid signature"}`), "", "", "")
	f.Add([]byte(`{"errcode":"0","phone_info":{}}`), "", "", "")
	f.Add([]byte(`{"iv":"","data":"","authtag":""}`), "AAAA", "0", guideCertSN)
	f.Add([]byte("\x00{"), "!", "-9223372036854775808", "x")
	sec, err := newAPISecurity(APISecurity{KeySN: guideKeySN, Key: guideKey, PrivateKey: guidePrivateKey,
		Certificates: map[string]string{guideCertSN: guideCertificate}})
	if err != nil {
		f.Fatal(err)
	}
	tr := newSecureTransport(sec, guideAppID, "https://api.weixin.qq.com", http.DefaultTransport,
		func() time.Time { return time.Unix(guideRespTS, 0) })
	f.Fuzz(func(t *testing.T, body []byte, sig, ts, serial string) {
		h := http.Header{}
		h.Set(headerSignature, sig)
		h.Set(headerTimestamp, ts)
		h.Set(headerSerial, serial)
		plain, err := tr.verifyReply(h, body, guideURLPath)
		if err != nil {
			return
		}
		if sig == "" {
			if !isErrorReply(plain) {
				t.Fatalf("accepted an unsigned success: %q", body)
			}
			return
		}
		got, _ := base64.StdEncoding.DecodeString(sig) // the decoder skips newlines
		want, _ := base64.StdEncoding.DecodeString(guideRespSig)
		if string(got) != string(want) || string(body) != guideRespEnvelope {
			t.Fatalf("accepted a reply WeChat did not sign: %q", body)
		}
	})
}

// The errcodes of the guide's table (五、错误码) match the sentinel an
// operator acts on.
func TestAPISecurityErrcodes(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]error{
		40230: ErrRequestRejected, 40231: ErrRequestRejected, 40232: ErrRequestRejected,
		40233: ErrRequestRejected, 40234: ErrRequestRejected, 40235: ErrRequestRejected,
		40236: ErrRequestRejected, 40237: ErrRequestRejected, 40240: ErrRequestRejected,
		934011: ErrRequestRejected, 40238: ErrNotAllowed, 40239: ErrNotAllowed,
	} {
		for _, op := range []string{opGetPhoneNumber, opCheckEncryptedData} {
			err := &APIError{Op: op, Code: code}
			assert.ErrorIs(t, err, want, "errcode %d on %s", code, op)
		}
	}
}

func TestAPISecurityPrintsNoSecret(t *testing.T) {
	t.Parallel()
	s := APISecurity{KeySN: guideKeySN, Key: guideKey, PrivateKey: guidePrivateKey,
		Certificates: map[string]string{guideCertSN: guideCertificate}}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), fmt.Sprint(&s)} {
		assert.NotContains(t, out, guideKey)
		assert.NotContains(t, out, "MIIEow")
		assert.Contains(t, out, guideKeySN)
		assert.Contains(t, out, guideCertSN)
	}
}
