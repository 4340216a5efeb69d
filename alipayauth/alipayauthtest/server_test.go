package alipayauthtest_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
)

const appID = "2021004100000001"

// signed returns params signed with the PEM private key, as a gateway
// request.
func signed(t *testing.T, keyPEM string, params map[string]string) url.Values {
	t.Helper()
	block, _ := pem.Decode([]byte(keyPEM))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + params[k]
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "&")))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	require.NoError(t, err)
	v := url.Values{}
	for k, p := range params {
		v.Set(k, p)
	}
	v.Set("sign", base64.StdEncoding.EncodeToString(sig))
	return v
}

func common(code string) map[string]string {
	return map[string]string{"app_id": appID, "method": alipayauthtest.MethodOauthToken, "format": "JSON",
		"charset": "utf-8", "sign_type": "RSA2", "timestamp": "2026-01-02 03:04:05", "version": "1.0",
		"grant_type": "authorization_code", "code": code}
}

// reply posts form and returns the sub_code of an error_response ("" for
// a success) and whether the reply was signed.
func reply(t *testing.T, srv *alipayauthtest.Server, form url.Values, query string) (string, bool) {
	t.Helper()
	resp, err := http.Post(srv.URL+alipayauthtest.PathGateway+query, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var m map[string]json.RawMessage
	b, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	_, hasSign := m["sign"]
	if e, ok := m["error_response"]; ok {
		var st struct {
			Code    string `json:"code"`
			SubCode string `json:"sub_code"`
		}
		require.NoError(t, json.Unmarshal(e, &st))
		assert.NotEmpty(t, st.Code)
		return st.SubCode, hasSign
	}
	require.Contains(t, m, "alipay_system_oauth_token_response")
	return "", hasSign
}

func TestGatewayChecks(t *testing.T) {
	t.Parallel()
	srv := alipayauthtest.NewServer(appID)
	defer srv.Close()
	key := srv.AppPrivateKey()
	without := func(k string) map[string]string { p := common("c"); delete(p, k); return p }
	with := func(k, v string) map[string]string { p := common("c"); p[k] = v; return p }
	tests := []struct {
		name   string
		form   url.Values
		want   string
		signed bool
	}{
		{"no method", signed(t, key, without("method")), "isv.missing-method", true},
		{"no app_id", signed(t, key, without("app_id")), "isv.missing-app-id", false},
		{"other app_id", signed(t, key, with("app_id", "2021000000000000")), "isv.invalid-app-id", false},
		{"no timestamp", signed(t, key, without("timestamp")), "isv.missing-timestamp", true},
		{"bad timestamp", signed(t, key, with("timestamp", "2026/01/02")), "isv.invalid-timestamp", true},
		{"no version", signed(t, key, without("version")), "isv.missing-version", true},
		{"sign_type RSA", signed(t, key, with("sign_type", "RSA")), "isv.invalid-signature-type", true},
		{"GBK", signed(t, key, with("charset", "GBK")), "isv.invalid-charset", true},
		{"unknown method", signed(t, key, with("method", "alipay.user.info.share")), "isv.invalid-method", true},
		{"grant refresh_token", signed(t, key, with("grant_type", "refresh_token")), "isv.grant-type-invalid", true},
		{"unknown code", signed(t, key, common("0123456789abcdef")), "isv.code-invalid", true},
	}
	noSign := signed(t, key, common("c"))
	noSign.Del("sign")
	tests = append(tests, struct {
		name   string
		form   url.Values
		want   string
		signed bool
	}{"no sign", noSign, "isv.missing-signature", true})
	tampered := signed(t, key, common("c"))
	tampered.Set("code", "d")
	tests = append(tests, struct {
		name   string
		form   url.Values
		want   string
		signed bool
	}{"tampered", tampered, "isv.invalid-signature", true})
	for _, tt := range tests {
		sub, hasSign := reply(t, srv, tt.form, "")
		assert.Equal(t, tt.want, sub, tt.name)
		assert.Equal(t, tt.signed, hasSign, tt.name)
	}

	// The common parameters may travel in the query, as SDKs send them.
	code := srv.AuthCode("")
	f := signed(t, key, common(code))
	q := url.Values{}
	for _, k := range []string{"app_id", "method", "charset", "sign_type", "sign", "timestamp", "version", "format"} {
		q.Set(k, f.Get(k))
		f.Del(k)
	}
	sub, hasSign := reply(t, srv, f, "?"+q.Encode())
	assert.Empty(t, sub)
	assert.True(t, hasSign)
	assert.Equal(t, len(tests)+1, srv.Calls(alipayauthtest.MethodOauthToken)+srv.Calls("")+srv.Calls("alipay.user.info.share"))

	resp, err := http.Get(srv.URL + alipayauthtest.PathGateway)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Post(srv.URL+"/other", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Error(t, srv.FailNext("alipay.user.info.share", "isp.unknow-error"))
	require.Error(t, srv.FailNext(alipayauthtest.MethodOauthToken, ""))
	require.Error(t, srv.FailNextStatus(alipayauthtest.MethodOauthToken, 200))
}

func TestWithAppPublicKey(t *testing.T) {
	t.Parallel()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	srv := alipayauthtest.NewServer(appID, alipayauthtest.WithAppPublicKey(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))))
	defer srv.Close()
	assert.Empty(t, srv.AppPrivateKey())
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	sub, _ := reply(t, srv, signed(t, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})), common(srv.AuthCode(""))), "")
	assert.Empty(t, sub)
	_, err = alipayauthtest.Start(appID, alipayauthtest.WithAppPublicKey("not PEM"))
	require.Error(t, err)
	_, err = alipayauthtest.Start("")
	require.Error(t, err)
}
