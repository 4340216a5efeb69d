package alipayauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignContent(t *testing.T) {
	t.Parallel()
	got := signContent(map[string]string{
		"method": "alipay.system.oauth.token", "app_id": "2014072300007148", "sign": "xx",
		"empty": "", "code": "a+b/c=&d", "charset": "utf-8",
	})
	assert.Equal(t, "app_id=2014072300007148&charset=utf-8&code=a+b/c=&d&method=alipay.system.oauth.token", got)
}

func TestSplitReply(t *testing.T) {
	t.Parallel()
	const name = "alipay_system_oauth_token_response"
	tests := []struct {
		name, body, node, errNode, sign string
		hasSign, bad                    bool
	}{
		{"node and sign", `{"` + name + `":{"a":1},"sign":"s"}`, `{"a":1}`, "", "s", true, false},
		{"whitespace kept inside, trimmed outside", "{ \"" + name + "\" :  {\"a\" : [1, 2]}  , \"sign\":\"s\"}", `{"a" : [1, 2]}`, "", "s", true, false},
		{"escaped name in a string", `{"x":"\"` + name + `\":{}","` + name + `":{"b":2}}`, `{"b":2}`, "", "", false, false},
		{"error", `{"error_response":{"code":"40002"},"sign":"s"}`, "", `{"code":"40002"}`, "s", true, false},
		{"unicode escapes kept", `{"` + name + `":{"m":"\u6388\u6743"}}`, `{"m":"\u6388\u6743"}`, "", "", false, false},
		{"duplicate", `{"` + name + `":{},"` + name + `":{}}`, "", "", "", false, true},
		{"duplicate sign", `{"sign":"a","sign":"b"}`, "", "", "", false, true},
		{"sign not a string", `{"sign":1}`, "", "", "", false, true},
		{"array", `[1]`, "", "", "", false, true},
		{"trailing", `{}{}`, "", "", "", false, true},
		{"cut", `{"` + name + `":{"a":1`, "", "", "", false, true},
		{"empty", ``, "", "", "", false, true},
	}
	for _, tt := range tests {
		p, err := splitReply([]byte(tt.body), name)
		if tt.bad {
			assert.Error(t, err, tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.node, string(p.node), tt.name)
		assert.Equal(t, tt.errNode, string(p.errNode), tt.name)
		assert.Equal(t, tt.sign, p.sign, tt.name)
		assert.Equal(t, tt.hasSign, p.hasSign, tt.name)
	}
}

// FuzzSplitReply: whatever the body, splitReply does not panic, and a node
// it cuts out is a substring of the body that is valid JSON.
func FuzzSplitReply(f *testing.F) {
	const name = "alipay_system_oauth_token_response"
	f.Add([]byte(`{"` + name + `":{"user_id":"2088102150477652"},"sign":"abc"}`))
	f.Add([]byte(`{"error_response":{"code":"40002","sub_code":"isv.code-invalid"}}`))
	f.Add([]byte(`{"` + name + `":{},"` + name + `":{}}`))
	f.Add([]byte(`{"x":"\"` + name + `\":{}"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := splitReply(body, name)
		if err != nil {
			return
		}
		for _, raw := range [][]byte{p.node, p.errNode} {
			if raw == nil {
				continue
			}
			if !json.Valid(raw) {
				t.Fatalf("cut out invalid JSON %q", raw)
			}
			if !strings.Contains(string(body), string(raw)) {
				t.Fatalf("cut out %q, not in the body", raw)
			}
		}
	})
}

// FuzzDecryptPhone: a response of any shape is refused with an error, never
// a panic, and never yields a number that does not verify.
func FuzzDecryptPhone(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	alipay, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pkix, _ := x509.MarshalPKIXPublicKey(&alipay.PublicKey)
	a, err := New("2021004100000001", base64.StdEncoding.EncodeToString(pkcs8), base64.StdEncoding.EncodeToString(pkix),
		WithAESKey(base64.StdEncoding.EncodeToString(make([]byte, 16))))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"response":"hvDOnibG0DPcOFPNubK3DEfLQGL4=","sign":"OIwk7zfZMp5GX78Ow==","sign_type":"RSA2","encrypt_type":"AES","charset":"UTF-8"}`)
	f.Add(`{"response":"{\"code\":\"10000\",\"mobile\":\"1\"}","sign":""}`)
	f.Add(`{}`)
	f.Add(`"`)
	f.Fuzz(func(t *testing.T, resp string) {
		p, err := a.DecryptPhone(resp)
		if err == nil || p != nil {
			t.Fatalf("accepted %q without a valid sign", resp)
		}
	})
}

// FuzzParseKeys: key text of any shape gives a key or an error, never a
// panic, and an error never quotes the text.
func FuzzParseKeys(f *testing.F) {
	f.Add("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
	f.Add("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
	f.Add("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := parsePrivateKey(text); err != nil && len(text) > 12 && strings.Contains(err.Error(), text) {
			t.Fatalf("error quotes the key: %v", err)
		}
		if _, err := parsePublicKey(text); err != nil && len(text) > 12 && strings.Contains(err.Error(), text) {
			t.Fatalf("error quotes the key: %v", err)
		}
	})
}
