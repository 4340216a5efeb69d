package alipayauth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
)

// Differential checks of Alipay's signatures and the phone response's
// cipher against an independent implementation: the openssl command (the
// Debian package openssl). Without it a local run skips; with CI=true it
// fails.

// openssl runs the openssl command with args and stdin and returns its
// standard output.
func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(needTool(t, "openssl", "openssl"), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "openssl %v: %s", args, errb.String())
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// TestRequestSignatureVerifiesWithOpenSSL: the sign of a request the client
// sends verifies with openssl, over the sorted k=v string rebuilt here from
// the form, with the public half of the app key.
func TestRequestSignatureVerifiesWithOpenSSL(t *testing.T) {
	t.Parallel()
	needTool(t, "openssl", "openssl")
	srv := alipayauthtest.NewServer(testAppID)
	defer srv.Close()
	dir := t.TempDir()
	privPath := writeFile(t, dir, "app.pem", []byte(srv.AppPrivateKey()))
	pubPath := writeFile(t, dir, "app.pub", openssl(t, nil, "pkey", "-in", privPath, "-pubout"))

	var form url.Values
	app := handlerApp(t, srv, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ = url.ParseQuery(string(b))
		_, _ = io.WriteString(w, `{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"x"}}`)
	}))
	_, err := app.Code2Session(context.Background(), "code with+plus&amp=and 中")
	require.ErrorIs(t, err, miniauth.ErrInvalidCode, "not printable ASCII: refused before any request")
	_, err = app.Code2Session(context.Background(), "4b203fe6c11548bc+abd8/da5bb087a83b=&x")
	require.ErrorIs(t, err, miniauth.ErrInvalidCode)

	var keys []string
	for k := range form {
		if k != "sign" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var content strings.Builder
	for i, k := range keys {
		if i > 0 {
			content.WriteByte('&')
		}
		content.WriteString(k + "=" + form.Get(k))
	}
	assert.Contains(t, content.String(), "code=4b203fe6c11548bc+abd8/da5bb087a83b=&x", "values are signed as they are, not URL-encoded")
	sig, err := base64.StdEncoding.DecodeString(form.Get("sign"))
	require.NoError(t, err)
	sigPath := writeFile(t, dir, "sig", sig)
	out := openssl(t, []byte(content.String()), "dgst", "-sha256", "-verify", pubPath, "-signature", sigPath)
	assert.Equal(t, "Verified OK", strings.TrimSpace(string(out)))
}

// TestReplyAndPhoneSignedByOpenSSL: a gateway reply and a phone response
// signed (and the phone number encrypted) by openssl are accepted, and
// refused once a byte of the signed text changes.
func TestReplyAndPhoneSignedByOpenSSL(t *testing.T) {
	t.Parallel()
	needTool(t, "openssl", "openssl")
	srv := alipayauthtest.NewServer(testAppID)
	defer srv.Close()
	dir := t.TempDir()
	keyPath := writeFile(t, dir, "alipay.pem", openssl(t, nil, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"))
	pub := openssl(t, nil, "pkey", "-in", keyPath, "-pubout")
	sign := func(content string) string {
		return base64.StdEncoding.EncodeToString(openssl(t, []byte(content), "dgst", "-sha256", "-sign", keyPath))
	}
	var aesKey [16]byte
	_, _ = rand.Read(aesKey[:])

	node := `{"access_token":"authusrB8c3a","expires_in":"1296000","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","user_id":"2088102150477652"}`
	body := `{"alipay_system_oauth_token_response":` + node + `,"sign":"` + sign(node) + `"}`
	tampered := strings.Replace(body, "074a1", "074a2", 1)
	// An app that trusts openssl's key as Alipay's, served body.
	app, err := alipayauth.New(testAppID, srv.AppPrivateKey(), string(pub),
		alipayauth.WithHTTPClient(&http.Client{Transport: roundTripper{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, body)
		})}}), alipayauth.WithAESKey(base64.StdEncoding.EncodeToString(aesKey[:])))
	require.NoError(t, err)
	sess, err := app.Code2Session(context.Background(), "4b203fe6c11548bcabd8da5bb087a83b")
	require.NoError(t, err)
	assert.Equal(t, "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", sess.OpenID)
	bad, err := alipayauth.New(testAppID, srv.AppPrivateKey(), string(pub),
		alipayauth.WithHTTPClient(&http.Client{Transport: roundTripper{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, tampered)
		})}}))
	require.NoError(t, err)
	_, err = bad.Code2Session(context.Background(), "4b203fe6c11548bcabd8da5bb087a83b")
	require.ErrorIs(t, err, miniauth.ErrBadResponse)

	// The phone response: AES-128-CBC, zero IV, PKCS#5 by openssl enc; the
	// sign over the quoted ciphertext by openssl dgst.
	plain := `{"code":"10000","msg":"Success","mobile":"13800138000"}`
	ct := strings.TrimSpace(string(openssl(t, []byte(plain), "enc", "-aes-128-cbc", "-K", hex.EncodeToString(aesKey[:]),
		"-iv", strings.Repeat("0", 32), "-base64", "-A")))
	env, _ := json.Marshal(map[string]string{"response": ct, "sign": sign(`"` + ct + `"`), "sign_type": "RSA2", "encrypt_type": "AES", "charset": "UTF-8"})
	p, err := app.DecryptPhone(string(env))
	require.NoError(t, err)
	assert.Equal(t, "13800138000", p.PurePhoneNumber)
	env, _ = json.Marshal(map[string]string{"response": ct, "sign": sign(ct), "sign_type": "RSA2", "encrypt_type": "AES", "charset": "UTF-8"})
	_, err = app.DecryptPhone(string(env))
	require.ErrorIs(t, err, miniauth.ErrInvalidPhoneCode, "the sign is over the quoted content")

	// And the fake's own phone response decrypts with openssl.
	resp, err := srv.PhoneResponse(srv.AddUser(alipayauthtest.User{Mobile: "13911112222"}))
	require.NoError(t, err)
	var e map[string]string
	require.NoError(t, json.Unmarshal([]byte(resp), &e))
	fakeKey, err := base64.StdEncoding.DecodeString(srv.AESKey())
	require.NoError(t, err)
	dec := openssl(t, []byte(e["response"]), "enc", "-d", "-aes-128-cbc", "-K", hex.EncodeToString(fakeKey),
		"-iv", strings.Repeat("0", 32), "-base64", "-A")
	assert.JSONEq(t, `{"code":"10000","msg":"Success","mobile":"13911112222"}`, string(dec))
}
