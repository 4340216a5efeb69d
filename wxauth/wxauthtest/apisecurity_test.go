package wxauthtest_test

import (
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
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// secClient is a minimal client of the mode written from the guide, with
// knobs to break each part of a request.
type secClient struct {
	keys wxauthtest.APISecurityKeys
	aead cipher.AEAD
	priv *rsa.PrivateKey
	cert *rsa.PublicKey
}

func newSecClient(t *testing.T, k wxauthtest.APISecurityKeys) *secClient {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(k.Key)
	require.NoError(t, err)
	require.Len(t, key, 32)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	p, _ := pem.Decode([]byte(k.PrivateKey))
	require.NotNil(t, p)
	priv, err := x509.ParsePKCS8PrivateKey(p.Bytes)
	require.NoError(t, err)
	c, _ := pem.Decode([]byte(k.Certificate))
	require.NotNil(t, c)
	cert, err := x509.ParseCertificate(c.Bytes)
	require.NoError(t, err)
	return &secClient{keys: k, aead: aead, priv: priv.(*rsa.PrivateKey), cert: cert.PublicKey.(*rsa.PublicKey)}
}

type secRequest struct {
	appID, innerAppID, sn string
	ts                    int64
	plainBody             bool // send the fields unencrypted
	badSig                bool
	noTS, noSig           bool // leave the header out
}

func (c *secClient) digest(urlPath, appID string, ts int64, body []byte) []byte {
	d := sha256.Sum256([]byte(fmt.Sprintf("%s\n%s\n%d\n%s", urlPath, appID, ts, body)))
	return d[:]
}

// post sends fields to path in the mode and returns the reply's status
// errcode (decrypted when the reply is sealed) and whether it was sealed.
func (c *secClient) post(t *testing.T, srv *wxauthtest.Server, path, token string, fields map[string]any, r secRequest) (map[string]any, bool) {
	t.Helper()
	urlPath := srv.URL + path
	fields["_n"], fields["_appid"], fields["_timestamp"] = "bm9uY2Vub25jZW5vbmNl", r.innerAppID, r.ts
	plain, err := json.Marshal(fields)
	require.NoError(t, err)
	body := plain
	if !r.plainBody {
		iv := make([]byte, 12)
		_, _ = rand.Read(iv)
		sealed := c.aead.Seal(nil, iv, plain, fmt.Appendf(nil, "%s|%s|%d|%s", urlPath, r.appID, r.ts, r.sn))
		n := len(sealed) - 16
		body, err = json.Marshal(map[string]string{"iv": base64.StdEncoding.EncodeToString(iv),
			"data": base64.StdEncoding.EncodeToString(sealed[:n]), "authtag": base64.StdEncoding.EncodeToString(sealed[n:])})
		require.NoError(t, err)
	}
	sig, err := rsa.SignPSS(rand.Reader, c.priv, crypto.SHA256, c.digest(urlPath, r.appID, r.ts, body), &rsa.PSSOptions{SaltLength: 32})
	require.NoError(t, err)
	if r.badSig {
		sig[0] ^= 1
	}
	req, err := http.NewRequest(http.MethodPost, urlPath+"?"+url.Values{"access_token": {token}}.Encode(), strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Wechatmp-Appid", r.appID)
	if !r.noTS {
		req.Header.Set("Wechatmp-TimeStamp", strconv.FormatInt(r.ts, 10))
	}
	if !r.noSig {
		req.Header.Set("Wechatmp-Signature", base64.StdEncoding.EncodeToString(sig))
	}
	resp, err := testClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if resp.Header.Get("Wechatmp-Signature") == "" {
		require.NoError(t, json.Unmarshal(b, &out))
		return out, false
	}
	// A sealed reply: verify with the platform certificate, then decrypt.
	ts, err := strconv.ParseInt(resp.Header.Get("Wechatmp-TimeStamp"), 10, 64)
	require.NoError(t, err)
	assert.Equal(t, c.keys.CertificateSN, resp.Header.Get("Wechatmp-Serial"))
	assert.Equal(t, srv.AppID(), resp.Header.Get("Wechatmp-Appid"))
	rsig, err := base64.StdEncoding.DecodeString(resp.Header.Get("Wechatmp-Signature"))
	require.NoError(t, err)
	require.NoError(t, rsa.VerifyPSS(c.cert, crypto.SHA256, c.digest(urlPath, srv.AppID(), ts, b), rsig, &rsa.PSSOptions{SaltLength: 32}))
	var env map[string]string
	require.NoError(t, json.Unmarshal(b, &env))
	iv, _ := base64.StdEncoding.DecodeString(env["iv"])
	data, _ := base64.StdEncoding.DecodeString(env["data"])
	tag, _ := base64.StdEncoding.DecodeString(env["authtag"])
	plain, err = c.aead.Open(nil, iv, append(data, tag...), fmt.Appendf(nil, "%s|%s|%d|%s", urlPath, srv.AppID(), ts, c.keys.KeySN))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(plain, &out))
	assert.Equal(t, srv.AppID(), out["_appid"])
	assert.EqualValues(t, ts, out["_timestamp"])
	assert.NotEmpty(t, out["_n"])
	return out, true
}

func TestAPISecurityMode(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t, wxauthtest.WithAPISecurity())
	keys, ok := srv.APISecurity()
	require.True(t, ok)
	c := newSecClient(t, keys)
	id := srv.AddUser(wxauthtest.User{})
	now := clk.Now().Unix()
	good := secRequest{appID: testAppID, innerAppID: testAppID, sn: keys.KeySN, ts: now}

	code, err := srv.PhoneCode(id)
	require.NoError(t, err)
	out, sealed := c.post(t, srv, wxauthtest.PathPhoneNumber, srv.AccessToken(), map[string]any{"code": code}, good)
	require.True(t, sealed)
	assert.EqualValues(t, 0, out["errcode"])
	assert.NotNil(t, out["phone_info"])
	// WeChat's refusals of the API itself come sealed too.
	out, sealed = c.post(t, srv, wxauthtest.PathPhoneNumber, srv.AccessToken(), map[string]any{"code": code}, good)
	require.True(t, sealed)
	assert.EqualValues(t, 40029, out["errcode"])

	with := func(f func(*secRequest)) secRequest { r := good; f(&r); return r }
	tests := []struct {
		name    string
		r       secRequest
		errcode int
	}{
		{"plain body", with(func(r *secRequest) { r.plainBody = true }), 934011},
		{"bad signature", with(func(r *secRequest) { r.badSig = true }), 40234},
		{"another appid", with(func(r *secRequest) { r.appID = "wx0000000000000000"; r.innerAppID = r.appID }), 40236},
		{"no appid", with(func(r *secRequest) { r.appID = "" }), 40233},
		{"no timestamp", with(func(r *secRequest) { r.noTS = true }), 40231},
		{"no signature", with(func(r *secRequest) { r.noSig = true }), 40232},
		{"stale", with(func(r *secRequest) { r.ts = now - 301 }), 40240},
		{"from the future", with(func(r *secRequest) { r.ts = now + 301 }), 40240},
		{"another key SN in the AAD", with(func(r *secRequest) { r.sn = "0000" }), 40235},
		{"another appid inside", with(func(r *secRequest) { r.innerAppID = "wx0000000000000000" }), 40235},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, err := srv.PhoneCode(id)
			require.NoError(t, err)
			out, sealed := c.post(t, srv, wxauthtest.PathPhoneNumber, srv.AccessToken(), map[string]any{"code": code}, tt.r)
			assert.False(t, sealed, "a refusal of the mode comes unsigned")
			assert.EqualValues(t, tt.errcode, out["errcode"], out["errmsg"])
		})
	}
	// 300 s either way is still fresh.
	code, err = srv.PhoneCode(id)
	require.NoError(t, err)
	out, _ = c.post(t, srv, wxauthtest.PathPhoneNumber, srv.AccessToken(), map[string]any{"code": code}, with(func(r *secRequest) { r.ts = now - 300 }))
	assert.EqualValues(t, 0, out["errcode"])
}

func TestAPISecurityModeOff(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	_, ok := srv.APISecurity()
	assert.False(t, ok)
	_, _, err := srv.RotatePlatformCertificate()
	assert.Error(t, err)
}

func TestAPISecurityRotation(t *testing.T) {
	t.Parallel()
	srv, clk := newServer(t, wxauthtest.WithAPISecurity())
	old, _ := srv.APISecurity()
	serial, cert, err := srv.RotatePlatformCertificate()
	require.NoError(t, err)
	now, _ := srv.APISecurity()
	assert.Equal(t, serial, now.CertificateSN)
	assert.Equal(t, cert, now.Certificate)
	assert.NotEqual(t, old.CertificateSN, serial)
	// The new certificate signs; newSecClient checks Wechatmp-Serial.
	c := newSecClient(t, now)
	id := srv.AddUser(wxauthtest.User{})
	code, err := srv.PhoneCode(id)
	require.NoError(t, err)
	out, sealed := c.post(t, srv, wxauthtest.PathPhoneNumber, srv.AccessToken(), map[string]any{"code": code},
		secRequest{appID: testAppID, innerAppID: testAppID, sn: now.KeySN, ts: clk.Now().Unix()})
	require.True(t, sealed)
	assert.EqualValues(t, 0, out["errcode"])
}
