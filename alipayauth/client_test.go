package alipayauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
)

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func TestNewAcceptsEveryKeyEncoding(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	alipay, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	pkix, err := x509.MarshalPKIXPublicKey(&alipay.PublicKey)
	require.NoError(t, err)
	pub1 := x509.MarshalPKCS1PublicKey(&alipay.PublicKey)
	b64 := base64.StdEncoding.EncodeToString
	privs := map[string]string{
		"PKCS#8 PEM": pemOf("PRIVATE KEY", pkcs8), "PKCS#1 PEM": pemOf("RSA PRIVATE KEY", pkcs1),
		"PKCS#8 base64": b64(pkcs8), "PKCS#1 base64": b64(pkcs1),
		"base64 in lines": "\n" + b64(pkcs8)[:64] + "\n" + b64(pkcs8)[64:] + "\n",
	}
	pubs := map[string]string{
		"PKIX PEM": pemOf("PUBLIC KEY", pkix), "PKCS#1 PEM": pemOf("RSA PUBLIC KEY", pub1),
		"PKIX base64": b64(pkix), "PKCS#1 base64": b64(pub1),
	}
	for pn, priv := range privs {
		for qn, pub := range pubs {
			app, err := alipayauth.New(testAppID, priv, pub)
			require.NoError(t, err, pn+" / "+qn)
			assert.Equal(t, testAppID, app.AppID())
			assert.Equal(t, miniauth.Alipay, app.Platform())
		}
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	priv := pemOf("PRIVATE KEY", pkcs8)
	otherPKIX, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	pub := pemOf("PUBLIC KEY", otherPKIX)
	ownPKIX, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	smallPKCS8, _ := x509.MarshalPKCS8PrivateKey(small)
	secretBits := base64.StdEncoding.EncodeToString(pkcs8)[100:140]
	tests := []struct {
		name, appID, priv, pub, want string
		opts                         []alipayauth.Option
	}{
		{"empty appid", "", priv, pub, "appID must not be empty", nil},
		{"appid with space", "2021 0041", priv, pub, "printable ASCII", nil},
		{"long appid", strings.Repeat("1", 33), priv, pub, "printable ASCII", nil},
		{"empty private key", testAppID, "", pub, "app private key must not be empty", nil},
		{"private key garbage", testAppID, "not a key at all!", pub, "neither PEM nor base64", nil},
		{"private key truncated", testAppID, base64.StdEncoding.EncodeToString(pkcs8[:300]), pub, "not a PKCS#1 or PKCS#8", nil},
		{"private key is a public key", testAppID, pub, pub, "PEM block of type", nil},
		{"private key too small", testAppID, pemOf("PRIVATE KEY", smallPKCS8), pub, "2048", nil},
		{"public key is a private key", testAppID, priv, base64.StdEncoding.EncodeToString(pkcs8), "is a private key", nil},
		{"public key is a certificate", testAppID, priv, pemOf("CERTIFICATE", []byte{1, 2}), "certificate", nil},
		{"public key is the app's own", testAppID, priv, pemOf("PUBLIC KEY", ownPKIX), "app's own public key", nil},
		{"two PEM blocks", testAppID, priv + priv, pub, "one well-formed PEM block", nil},
		{"bad AES key", testAppID, priv, pub, "AES key", []alipayauth.Option{alipayauth.WithAESKey("c2hvcnQ=")}},
		{"bad base URL", testAppID, priv, pub, "base URL", []alipayauth.Option{alipayauth.WithBaseURL("ftp://x")}},
		{"nil http client", testAppID, priv, pub, "http client", []alipayauth.Option{alipayauth.WithHTTPClient(nil)}},
		{"bad retries", testAppID, priv, pub, "retries", []alipayauth.Option{alipayauth.WithRetry(-1)}},
		{"bad timeout", testAppID, priv, pub, "timeout", []alipayauth.Option{alipayauth.WithTimeout(0)}},
		{"bad backoff", testAppID, priv, pub, "backoff", []alipayauth.Option{alipayauth.WithBackoff(2, 1)}},
		{"nil logger", testAppID, priv, pub, "logger", []alipayauth.Option{alipayauth.WithLogger(nil)}},
		{"nil clock", testAppID, priv, pub, "clock", []alipayauth.Option{alipayauth.WithClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := alipayauth.New(tt.appID, tt.priv, tt.pub, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, app)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "alipayauth: "), err.Error())
			assert.NotContains(t, err.Error(), secretBits, "an error never quotes a key")
		})
	}
}

func TestCode2SessionAgainstTheFake(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		user     alipayauthtest.User
		openID   string
		unionID  string
		wantSent bool
	}{
		{"new app: open_id", alipayauthtest.User{OpenID: "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"}, "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", "", true},
		{"user_id era: user_id", alipayauthtest.User{UserID: "2088102150477652"}, "2088102150477652", "", true},
		{"migration: both, open_id wins", alipayauthtest.User{OpenID: "0abcOpenIDxyz", UserID: "2088102150477653"}, "0abcOpenIDxyz", "", true},
		{"union_id", alipayauthtest.User{OpenID: "0unionUser", UnionID: "UN0123456789"}, "0unionUser", "UN0123456789", true},
	}
	for _, tt := range tests {
		id := srv.AddUser(tt.user)
		sess, err := app.Code2Session(ctx, srv.AuthCode(id))
		require.NoError(t, err, tt.name)
		assert.Equal(t, miniauth.Session{Platform: miniauth.Alipay, AppID: testAppID, OpenID: tt.openID, UnionID: tt.unionID}, *sess, tt.name)
		assert.Empty(t, sess.SessionKey, "alipay has no session key")
	}
	assert.Equal(t, len(tests), srv.Calls(alipayauthtest.MethodOauthToken))
}

func TestCode2SessionRefusals(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	ctx := context.Background()

	t.Run("malformed codes are refused without a request", func(t *testing.T) {
		for _, code := range []string{"", "a b", "c\x00de", strings.Repeat("x", alipayauth.MaxCodeLen+1), "码"} {
			_, err := app.Code2Session(ctx, code)
			require.ErrorIs(t, err, alipayauth.ErrInvalidCode, "%q", code)
			require.ErrorIs(t, err, miniauth.ErrInvalidCode)
		}
		assert.Zero(t, srv.Calls(alipayauthtest.MethodOauthToken))
	})
	t.Run("unknown and used codes are isv.code-invalid", func(t *testing.T) {
		_, err := app.Code2Session(ctx, "0123456789abcdef0123456789abcdef")
		require.ErrorIs(t, err, miniauth.ErrInvalidCode)
		var ae *alipayauth.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, alipayauth.APIError{Op: "alipay.system.oauth.token", Code: "40002", Msg: "Invalid Arguments", SubCode: "isv.code-invalid", SubMsg: "授权码code无效"}, *ae)

		code := srv.AuthCode("")
		_, err = app.Code2Session(ctx, code)
		require.NoError(t, err)
		_, err = app.Code2Session(ctx, code)
		require.ErrorIs(t, err, miniauth.ErrInvalidCode, "a code works once")
		assert.NotErrorIs(t, err, miniauth.ErrCodeUsed, "alipay does not tell a used code apart")
		assert.NotContains(t, err.Error(), code)
	})
	t.Run("an expired code", func(t *testing.T) {
		clock := alipayClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		srv := alipayauthtest.NewServer(testAppID, alipayauthtest.WithClock(clock.Now))
		defer srv.Close()
		app, err := alipayauth.New(testAppID, srv.AppPrivateKey(), srv.AlipayPublicKey(), alipayauth.WithBaseURL(srv.URL))
		require.NoError(t, err)
		code := srv.AuthCode("")
		clock.Advance(alipayauthtest.CodeTTL + time.Second)
		_, err = app.Code2Session(ctx, code)
		require.ErrorIs(t, err, miniauth.ErrInvalidCode)
	})
	t.Run("a wrong app key is isv.invalid-signature", func(t *testing.T) {
		other := alipayauthtest.NewServer(testAppID)
		defer other.Close()
		wrong, err := alipayauth.New(testAppID, other.AppPrivateKey(), srv.AlipayPublicKey(), alipayauth.WithBaseURL(srv.URL))
		require.NoError(t, err)
		code := srv.AuthCode("")
		_, err = wrong.Code2Session(ctx, code)
		require.ErrorIs(t, err, miniauth.ErrInvalidCredential)
		_, err = app.Code2Session(ctx, code)
		require.NoError(t, err, "a refused request does not spend the code")
	})
	t.Run("a wrong appid gets an unsigned error_response", func(t *testing.T) {
		wrong, err := alipayauth.New("2021000000000009", srv.AppPrivateKey(), srv.AlipayPublicKey(), alipayauth.WithBaseURL(srv.URL))
		require.NoError(t, err)
		_, err = wrong.Code2Session(ctx, srv.AuthCode(""))
		require.ErrorIs(t, err, miniauth.ErrInvalidCredential)
		var ae *alipayauth.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "isv.invalid-app-id", ae.SubCode)
	})
	t.Run("a reply signed by someone else is refused", func(t *testing.T) {
		other := alipayauthtest.NewServer(testAppID)
		defer other.Close()
		// The app trusts srv's Alipay key; other signs with its own.
		app, err := alipayauth.New(testAppID, other.AppPrivateKey(), srv.AlipayPublicKey(), alipayauth.WithBaseURL(other.URL))
		require.NoError(t, err)
		_, err = app.Code2Session(ctx, other.AuthCode(""))
		require.ErrorIs(t, err, miniauth.ErrBadResponse)
		assert.Contains(t, err.Error(), "sign does not verify")
	})
}

func TestCode2SessionFaults(t *testing.T) {
	t.Parallel()
	srv, app, logs := newFake(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		inject  func() error
		want    error
		calls   int
		success bool
	}{
		{"busy is retried", func() error { return srv.FailNext(alipayauthtest.MethodOauthToken, "isp.unknow-error") }, nil, 2, true},
		{"5xx is retried", func() error { return srv.FailNextStatus(alipayauthtest.MethodOauthToken, 502) }, nil, 2, true},
		{"busy three times", func() error {
			for range 3 {
				if err := srv.FailNext(alipayauthtest.MethodOauthToken, "aop.unknow-error"); err != nil {
					return err
				}
			}
			return nil
		}, miniauth.ErrSystemBusy, 3, false},
		{"no permission", func() error {
			return srv.FailNext(alipayauthtest.MethodOauthToken, "isv.insufficient-isv-permissions")
		}, miniauth.ErrNotAllowed, 1, false},
		{"a 4xx is not retried", func() error { return srv.FailNextStatus(alipayauthtest.MethodOauthToken, 403) }, miniauth.ErrBadResponse, 1, false},
	}
	for _, tt := range tests {
		before := srv.Calls(alipayauthtest.MethodOauthToken)
		require.NoError(t, tt.inject())
		code := srv.AuthCode("")
		sess, err := app.Code2Session(ctx, code)
		if tt.success {
			require.NoError(t, err, tt.name)
			assert.NotEmpty(t, sess.OpenID)
		} else {
			require.ErrorIs(t, err, tt.want, tt.name)
		}
		assert.Equal(t, tt.calls, srv.Calls(alipayauthtest.MethodOauthToken)-before, tt.name)
	}
	assert.Contains(t, logs.String(), "alipayauth: retrying")
}

// TestRepliesAsTheGatewaySendsThem decodes replies shaped as Alipay's pages
// and SDKs show them, signed by the fake's key, and refuses broken ones.
func TestRepliesAsTheGatewaySendsThem(t *testing.T) {
	t.Parallel()
	srv := alipayauthtest.NewServer(testAppID)
	defer srv.Close()
	signer := func(content string) string { return srv.Sign([]byte(content)) }
	node := `{"access_token":"publicpBa869cad0990e4e17a57ecf7c5469a4b2","alipay_user_id":"20881001","auth_start":"2019-01-23 14:45:03","expires_in":"86400","re_expires_in":"2592000","refresh_token":"publicpB343643a5c2a4f30bcec6b0b5ad7b7a23","user_id":"2088102150477652"}`
	errNode := `{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}`
	tests := []struct {
		name    string
		body    string
		want    error
		wantID  string
		wantMsg string
	}{
		{"success, sign after", `{"alipay_system_oauth_token_response":` + node + `,"sign":"` + signer(node) + `"}`, nil, "2088102150477652", ""},
		{"success, sign first", `{"sign":"` + signer(node) + `","alipay_system_oauth_token_response":` + node + `}`, nil, "2088102150477652", ""},
		{"success, spaced node is signed as spaced", `{"alipay_system_oauth_token_response": { "user_id" : "2088102150477652" } ,"sign":"` + signer(`{ "user_id" : "2088102150477652" }`) + `"}`, nil, "2088102150477652", ""},
		{"success, name inside a string does not fool the cut", `{"x":"\"alipay_system_oauth_token_response\":{}","alipay_system_oauth_token_response":` + node + `,"sign":"` + signer(node) + `"}`, nil, "2088102150477652", ""},
		{"signed error_response", `{"error_response":` + errNode + `,"sign":"` + signer(errNode) + `"}`, miniauth.ErrInvalidCode, "", "isv.code-invalid"},
		{"unsigned error_response", `{"error_response":` + errNode + `}`, miniauth.ErrInvalidCode, "", "isv.code-invalid"},
		{"error inside the node", `{"alipay_system_oauth_token_response":{"code":"40004","msg":"Business Failed","sub_code":"isv.some-error","sub_msg":"x"},"sign":"` + signer(`{"code":"40004","msg":"Business Failed","sub_code":"isv.some-error","sub_msg":"x"}`) + `"}`, nil, "", "isv.some-error"},
		{"error_response badly signed", `{"error_response":` + errNode + `,"sign":"` + signer(node) + `"}`, miniauth.ErrBadResponse, "", "does not verify"},
		{"unsigned success", `{"alipay_system_oauth_token_response":` + node + `}`, miniauth.ErrBadResponse, "", "no sign"},
		{"success signed over other bytes", `{"alipay_system_oauth_token_response":` + node + `,"sign":"` + signer(strings.Replace(node, "477652", "477653", 1)) + `"}`, miniauth.ErrBadResponse, "", "does not verify"},
		{"sign not base64", `{"alipay_system_oauth_token_response":` + node + `,"sign":"!!"}`, miniauth.ErrBadResponse, "", "does not verify"},
		{"duplicate node", `{"alipay_system_oauth_token_response":` + node + `,"alipay_system_oauth_token_response":{"user_id":"2088000000000000"},"sign":"` + signer(node) + `"}`, miniauth.ErrBadResponse, "", "unique"},
		{"no node", `{"sign":"` + signer(node) + `"}`, miniauth.ErrBadResponse, "", "no alipay_system_oauth_token_response"},
		{"not JSON", `<html>busy</html>`, miniauth.ErrBadResponse, "", "JSON"},
		{"trailing garbage", `{"alipay_system_oauth_token_response":` + node + `,"sign":"` + signer(node) + `"}x`, miniauth.ErrBadResponse, "", "JSON"},
		{"no id", `{"alipay_system_oauth_token_response":{"access_token":"t"},"sign":"` + signer(`{"access_token":"t"}`) + `"}`, miniauth.ErrBadResponse, "", "no usable"},
		{"id with a newline", `{"alipay_system_oauth_token_response":{"user_id":"2088\n1"},"sign":"` + signer(`{"user_id":"2088\n1"}`) + `"}`, miniauth.ErrBadResponse, "", "no usable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var form url.Values
			app := handlerApp(t, srv, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				form, _ = url.ParseQuery(string(b))
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "/gateway.do", r.URL.Path)
				assert.Empty(t, r.URL.RawQuery, "everything travels in the body")
				assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"), r.Header.Get("Content-Type"))
				w.Header().Set("Content-Type", "text/html;charset=utf-8")
				_, _ = io.WriteString(w, tt.body)
			}))
			sess, err := app.Code2Session(context.Background(), "4b203fe6c11548bcabd8da5bb087a83b")
			for _, k := range []string{"app_id", "method", "format", "charset", "sign_type", "sign", "timestamp", "version", "grant_type", "code"} {
				assert.NotEmpty(t, form.Get(k), k)
			}
			assert.Equal(t, "alipay.system.oauth.token", form.Get("method"))
			assert.Equal(t, "authorization_code", form.Get("grant_type"))
			assert.Equal(t, "RSA2", form.Get("sign_type"))
			if tt.wantID != "" {
				require.NoError(t, err)
				assert.Equal(t, tt.wantID, sess.OpenID)
				return
			}
			require.Error(t, err)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.NotContains(t, err.Error(), "4b203fe6c11548bcabd8da5bb087a83b")
		})
	}
}

func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	srv, app, logs := newFake(t)
	priv := srv.AppPrivateKey()
	for _, s := range []string{fmt.Sprint(app), fmt.Sprintf("%v %+v %#v %s %q %x", app, app, app, *app, *app, *app),
		fmt.Sprintf("%+v", struct{ A alipayauth.App }{*app})} {
		assert.NotContains(t, s, "PRIVATE")
		assert.NotContains(t, s, priv[40:80])
		assert.Contains(t, s, testAppID)
	}
	code := srv.AuthCode("")
	require.NoError(t, srv.FailNextStatus(alipayauthtest.MethodOauthToken, 503))
	_, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err)
	_, err = app.Code2Session(context.Background(), code)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), code)
	assert.NotContains(t, logs.String(), code)
	assert.NotContains(t, logs.String(), "sign=")

	// A transport failure: the URL is the gateway's and carries nothing.
	dead, err := alipayauth.New(testAppID, priv, srv.AlipayPublicKey(), alipayauth.WithBaseURL("http://127.0.0.1:1"), alipayauth.WithRetry(0))
	require.NoError(t, err)
	_, err = dead.Code2Session(context.Background(), code)
	require.Error(t, err)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	assert.NotContains(t, err.Error(), code)
	assert.NotContains(t, ue.Error(), code)
}

func TestManyGoroutines(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	const n = 64
	codes := make([]string, n)
	ids := make([]string, n)
	for i := range codes {
		ids[i] = srv.AddUser(alipayauthtest.User{})
		codes[i] = srv.AuthCode(ids[i])
	}
	var wg sync.WaitGroup
	errs := make([]error, 2*n)
	got := make([]string, 2*n)
	for i := range 2 * n { // every code twice: exactly one of each pair wins
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess, err := app.Code2Session(context.Background(), codes[i%n])
			errs[i] = err
			if err == nil {
				got[i] = sess.OpenID
			}
		}()
	}
	wg.Wait()
	for i := range n {
		a, b := errs[i], errs[i+n]
		require.True(t, (a == nil) != (b == nil), "code %d: %v / %v", i, a, b)
		if a == nil {
			a = b
		}
		require.ErrorIs(t, a, miniauth.ErrInvalidCode, "the loser of a pair")
		assert.Equal(t, ids[i], got[i]+got[i+n], "the winner logs its own user in")
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code := srv.AuthCode("")
	_, err := app.Code2Session(ctx, code)
	require.ErrorIs(t, err, context.Canceled)
	sess, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err, "a call that never left keeps the code")
	assert.NotEmpty(t, sess.OpenID)

	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // net/http watches for a gone client once the body is read
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	slow, err := alipayauth.New(testAppID, srv.AppPrivateKey(), srv.AlipayPublicKey(),
		alipayauth.WithBaseURL(hang.URL), alipayauth.WithTimeout(20*time.Millisecond))
	require.NoError(t, err)
	_, err = slow.Code2Session(context.Background(), "abcdefghijklmnop")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "abcdefghijklmnop")
}

func TestAppsOfOneApp(t *testing.T) {
	t.Parallel()
	_, app, _ := newFake(t)
	for _, id := range []string{"", testAppID} {
		c, err := app.App(context.Background(), id)
		require.NoError(t, err)
		assert.Same(t, app, c)
	}
	_, err := app.App(context.Background(), "2021000000000002")
	require.ErrorIs(t, err, miniauth.ErrUnknownApp)
	set, err := miniauth.NewApps(app)
	require.NoError(t, err)
	c, err := set.App(context.Background(), testAppID)
	require.NoError(t, err)
	assert.Same(t, app, c)
}

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	e := &alipayauth.APIError{Op: "alipay.system.oauth.token", Code: "40002", Msg: "Invalid Arguments", SubCode: "isv.code-invalid", SubMsg: "授权码code无效"}
	assert.Equal(t, "alipayauth: alipay.system.oauth.token: code 40002 (Invalid Arguments): isv.code-invalid: 授权码code无效", e.Error())
	for code, want := range map[[2]string]error{
		{"40002", "isv.code-invalid"}:                 miniauth.ErrInvalidCode,
		{"40002", "isv.invalid-signature"}:            miniauth.ErrInvalidCredential,
		{"40002", "isv.invalid-app-id"}:               miniauth.ErrInvalidCredential,
		{"20000", "isp.unknow-error"}:                 miniauth.ErrSystemBusy,
		{"20000", ""}:                                 miniauth.ErrSystemBusy,
		{"40006", "isv.insufficient-isv-permissions"}: miniauth.ErrNotAllowed,
	} {
		err := &alipayauth.APIError{Op: "alipay.system.oauth.token", Code: code[0], SubCode: code[1]}
		assert.ErrorIs(t, err, want, code)
	}
	assert.False(t, errors.Is(&alipayauth.APIError{Op: "alipay.system.oauth.token", Code: "40004", SubCode: "isv.other"}, miniauth.ErrInvalidCode))
}

type clockT struct {
	mu  sync.Mutex
	now time.Time
}

func alipayClock(t time.Time) *clockT { return &clockT{now: t} }

func (c *clockT) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clockT) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
