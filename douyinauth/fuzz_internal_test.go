package douyinauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/wxmp/miniauth/internal/engine"
)

// FuzzReplies decodes arbitrary bodies into each reply type, as attempt
// does: never a panic, and a status whose message is made printable.
func FuzzReplies(f *testing.F) {
	for _, s := range []string{
		`{"err_no":0,"err_tips":"success","data":{"session_key":"h0rt4/77I09nDuSWeGwKKw==","openid":"o","anonymous_openid":"","unionid":"u"}}`,
		`{"err_no":40018,"err_tips":"bad code","log_id":"L","data":null}`,
		`{"err_no":"-1","err_tips":"system error"}`,
		`{"err_no":28005187,"err_msg":"x","log_id":"L","data":""}`,
		`{"data":{"access_token":"clt.x","description":"","error_code":0,"expires_in":7200},"message":"success"}`,
		`{"data":{"description":"配置无效","error_code":"10003"},"message":"error","extra":{"logid":"L"}}`,
		`{"err_no":1e3}`, `{"err_no":99999999999999999999}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, out := range []engine.Reply{&code2SessionReply{}, &phoneReply{}, &clientTokenReply{}} {
			if engine.Decode(body, out) != nil || !out.Failed() {
				continue
			}
			_, err := out.Err(opPhone, engine.Scrubber{})
			var e *APIError
			if !errors.As(err, &e) || e.Code == 0 {
				t.Fatalf("a failed reply without its code: %v", err)
			}
			if !utf8.ValidString(e.Error()) || len(e.Msg) > maxMsgLen || len(e.LogID) > maxMsgLen {
				t.Fatalf("unsafe error text %q", e.Error())
			}
		}
	})
}

// FuzzParsePrivateKey: arbitrary key text is refused or parsed, never a
// panic, and a parsed key is RSA of at least 2048 bits.
func FuzzParsePrivateKey(f *testing.F) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	f.Add(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})))
	f.Add(base64.StdEncoding.EncodeToString(der))
	f.Add("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
	f.Add("")
	f.Add("MII=")
	f.Fuzz(func(t *testing.T, key string) {
		p, err := parsePrivateKey(key)
		if err == nil && (p == nil || p.N.BitLen() < minKeyBits) {
			t.Fatalf("accepted a weak key")
		}
	})
}

// FuzzDecryptPhone: arbitrary get_phonenumber_info data is refused or
// decoded, never a panic.
func FuzzDecryptPhone(f *testing.F) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &k.PublicKey, []byte(`{"phoneNumber":"13800138000","watermark":{"appid":"tt1"}}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(base64.StdEncoding.EncodeToString(ct))
	f.Add(base64.StdEncoding.EncodeToString(ct[:100]))
	f.Add("")
	f.Add("====")
	a, err := New("tt1", "secret", WithPrivateKey(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data string) {
		p, err := a.decryptPhone(data)
		if err == nil && p.PhoneNumber == "" {
			t.Fatal("a phone number without a number")
		}
	})
}
