package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

const (
	testAppID  = "wx4f4bc4dec97d474b"
	testSecret = "app-secret-for-tests-0123456789ab"
	testIV     = "r7BXXKkLb8qrSNn05n0qiA=="
	otherKey   = "AAAAAAAAAAAAAAAAAAAAAA=="
	// wechatText is error text from WeChat that must not reach clients.
	wechatText = "wechat-internal-detail"
)

// fakeClient is a wxauth.Client whose Code2Session returns what the test
// says; VerifySignature and Decrypt are the real ones of an App for testAppID.
type fakeClient struct {
	app   *wxauth.App
	sess  *wxauth.Session
	err   error
	calls atomic.Int32

	phone      *wxauth.PhoneNumber // what GetPhoneNumber returns, or phoneErr
	phoneErr   error
	phoneCalls atomic.Int32
	phoneOpts  atomic.Int32 // options GetPhoneNumber was given in its last call
}

// A fakeClient is the miniauth.Client and Apps of testAppID on WeChat; it
// names the methods it takes from its App (an embedded *wxauth.App would
// make App a field, hiding the Apps method).
func (f *fakeClient) Platform() miniauth.Platform { return miniauth.WeChat }
func (f *fakeClient) AppID() string               { return f.app.AppID() }
func (f *fakeClient) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, f, appID)
}
func (f *fakeClient) VerifySignature(sessionKey, rawData, signature string) error {
	return f.app.VerifySignature(sessionKey, rawData, signature)
}
func (f *fakeClient) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	return f.app.Decrypt(sessionKey, encryptedData, iv, v)
}

// GetPhoneNumber answers for the phone code what the test says, without a
// request.
func (f *fakeClient) GetPhoneNumber(_ context.Context, _ string, opts ...wxauth.PhoneOption) (*wxauth.PhoneNumber, error) {
	f.phoneCalls.Add(1)
	f.phoneOpts.Store(int32(len(opts)))
	if f.phoneErr != nil {
		return nil, f.phoneErr
	}
	return f.phone, nil
}

// plainClient is a wxauth.Client and a miniauth.Client, and nothing more: no
// GetPhoneNumber. (Since the third round a handler takes a miniauth.Apps: a
// client must say its platform and appid.)
type plainClient struct{ wxauth.Client }

func (plainClient) Platform() miniauth.Platform { return miniauth.WeChat }
func (plainClient) AppID() string               { return testAppID }
func (p plainClient) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, p, appID)
}

func phoneErr(code int) error {
	return &wxauth.APIError{Op: "getuserphonenumber", Code: code, Msg: wechatText}
}

func newFakeClient(t testing.TB, sess *wxauth.Session, err error) *fakeClient {
	t.Helper()
	app, e := wxauth.New(testAppID, testSecret)
	require.NoError(t, e)
	return &fakeClient{app: app, sess: sess, err: err}
}

func (f *fakeClient) Code2Session(ctx context.Context, code string) (*wxauth.Session, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := *f.sess
	return &s, nil
}

// userInfoJSON is a decrypted getUserProfile payload.
func userInfoJSON(openID, unionID, appID string) []byte {
	m := map[string]any{
		"nickName": "Band", "gender": 1, "city": "Guangzhou", "country": "CN",
		"watermark": map[string]any{"appid": appID, "timestamp": 1477314187},
	}
	if openID != "" {
		m["openId"] = openID
	}
	if unionID != "" {
		m["unionId"] = unionID
	}
	b, _ := json.Marshal(m)
	return b
}

func encrypt(t testing.TB, key string, plain []byte) string {
	t.Helper()
	s, err := crypto.Encrypt(key, testIV, plain)
	require.NoError(t, err)
	return s
}

func loginBody(t testing.TB, fields map[string]string) string {
	t.Helper()
	b, err := json.Marshal(fields)
	require.NoError(t, err)
	return string(b)
}

// serve runs one request through h and checks what every answer must
// satisfy: no session_key, no app secret, no WeChat error text in the body.
func serve(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, r)
	for _, secret := range []string{testKey, strings.TrimRight(testKey, "="), testSecret, wechatText} {
		assert.NotContains(t, rr.Body.String(), secret, "a response body leaks a secret or WeChat's text")
	}
	if strings.HasPrefix(rr.Header().Get("Content-Type"), "application/json") {
		assert.Equal(t, "no-store", rr.Header().Get("Cache-Control"), "an answer that may carry a token is not cached")
	}
	return rr
}

func postLogin(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func apiErr(code int) error {
	return &wxauth.APIError{Op: "code2session", Code: code, Msg: wechatText, RID: "rid-" + wechatText}
}

func TestLoginHandlerRefuses(t *testing.T) {
	t.Parallel()
	sess := testSession()
	rawData := `{"nickName":"Band"}`
	goodData := encrypt(t, testKey, userInfoJSON(sess.OpenID, sess.UnionID, testAppID))
	noUnion := &wxauth.Session{OpenID: sess.OpenID, SessionKey: testKey}

	tests := []struct {
		name       string
		req        func() *http.Request
		body       string // POST body when req is nil; "" means {"code":"the-code"}
		sess       *wxauth.Session
		c2sErr     error
		phoneErr   error
		plain      bool // a client without GetPhoneNumber
		hook       session.OnLoginFunc
		storeDown  bool
		wantStatus int
		wantCode   string
		noWeChat   bool // WeChat must not be called
	}{
		{name: "GET", req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/login", nil) },
			wantStatus: 405, wantCode: session.CodeMethodNotAllowed, noWeChat: true},
		{name: "PUT", req: func() *http.Request {
			return httptest.NewRequest(http.MethodPut, "/login", strings.NewReader(`{"code":"c"}`))
		},
			wantStatus: 405, wantCode: session.CodeMethodNotAllowed, noWeChat: true},
		{name: "body over 64 KiB", body: `{"code":"` + strings.Repeat("a", session.MaxLoginBodyLen) + `"}`,
			wantStatus: 413, wantCode: session.CodeRequestTooLarge, noWeChat: true},
		{name: "body over 64 KiB, length unknown", req: func() *http.Request {
			r := postLogin(`{"code":"c","rawData":"` + strings.Repeat("a", session.MaxLoginBodyLen) + `"}`)
			r.ContentLength = -1
			return r
		}, wantStatus: 413, wantCode: session.CodeRequestTooLarge, noWeChat: true},
		{name: "empty body", req: func() *http.Request { return postLogin("") }, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "malformed JSON", body: `{"code":`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "not an object", body: `["code"]`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "a string", body: `"code"`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "code is a number", body: `{"code":123}`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "iv is an object", body: `{"code":"c","encryptedData":"x","iv":{}}`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "trailing data", body: `{"code":"c"}{"code":"d"}`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "repeated code", body: `{"code":"first","code":"second"}`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "code repeated in another case", body: `{"code":"seen-by-a-proxy","CODE":"used-by-json"}`, wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "no code", body: `{}`, wantStatus: 400, wantCode: session.CodeMissingCode, noWeChat: true},
		{name: "null", body: `null`, wantStatus: 400, wantCode: session.CodeMissingCode, noWeChat: true},
		{name: "empty code", body: `{"code":""}`, wantStatus: 400, wantCode: session.CodeMissingCode, noWeChat: true},
		{name: "code null", body: `{"code":null}`, wantStatus: 400, wantCode: session.CodeMissingCode, noWeChat: true},
		{name: "signature repeated as U+017F long s", body: `{"code":"c","rawData":"{}","signature":"` + crypto.Sign(testKey, "{}") +
			`","ſignature":"` + strings.Repeat("0", 40) + `"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "phoneCode too long", body: `{"code":"c","phoneCode":"` + strings.Repeat("p", wxauth.MaxCodeLen+1) + `"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "phoneCode not printable", body: `{"code":"c","phoneCode":"a b"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "phoneCode to a client that cannot exchange it", plain: true, body: `{"code":"c","phoneCode":"pc"}`,
			wantStatus: 500, wantCode: session.CodeServerError, noWeChat: true},
		{name: "phoneCode refused", body: `{"code":"c","phoneCode":"pc"}`, phoneErr: phoneErr(40029),
			wantStatus: 400, wantCode: session.CodeInvalidPhoneCode},
		{name: "phoneCode of another user", body: `{"code":"c","phoneCode":"pc"}`, phoneErr: phoneErr(40003),
			wantStatus: 400, wantCode: session.CodeInvalidPhoneCode},
		{name: "phoneCode of another app", body: `{"code":"c","phoneCode":"pc"}`, phoneErr: phoneErr(40013),
			wantStatus: 400, wantCode: session.CodeInvalidPhoneCode},
		{name: "phone API not allowed", body: `{"code":"c","phoneCode":"pc"}`, phoneErr: phoneErr(48001),
			wantStatus: 500, wantCode: session.CodeServerError},
		{name: "phone quota spent", body: `{"code":"c","phoneCode":"pc"}`, phoneErr: phoneErr(45009),
			wantStatus: 503, wantCode: session.CodeQuotaExceeded},
		{name: "code too long", body: `{"code":"` + strings.Repeat("c", wxauth.MaxCodeLen+1) + `"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "rawData without signature", body: `{"code":"c","rawData":"{}"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "signature without rawData", body: `{"code":"c","signature":"ab"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "encryptedData without iv", body: `{"code":"c","encryptedData":"` + goodData + `"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "iv without encryptedData", body: `{"code":"c","iv":"` + testIV + `"}`,
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},

		{name: "invalid code", c2sErr: apiErr(40029), wantStatus: 401, wantCode: session.CodeInvalidCode},
		{name: "code refused before any request", c2sErr: fmt.Errorf("wxauth: code2session: code must be printable: %w", wxauth.ErrInvalidCode),
			wantStatus: 401, wantCode: session.CodeInvalidCode},
		{name: "used code", c2sErr: apiErr(40163), wantStatus: 401, wantCode: session.CodeCodeUsed},
		{name: "rate limited", c2sErr: apiErr(45011), wantStatus: 429, wantCode: session.CodeRateLimited},
		{name: "high risk", c2sErr: apiErr(40226), wantStatus: 403, wantCode: session.CodeHighRisk},
		{name: "system busy", c2sErr: apiErr(-1), wantStatus: 502, wantCode: session.CodeWeChatUnavailable},
		{name: "unknown errcode", c2sErr: apiErr(61234), wantStatus: 502, wantCode: session.CodeWeChatUnavailable},
		{name: "http 503 from wechat", c2sErr: &wxauth.StatusError{Op: "code2session", StatusCode: 503},
			wantStatus: 502, wantCode: session.CodeWeChatUnavailable},
		{name: "bad reply", c2sErr: fmt.Errorf("wxauth: code2session: %s: %w", wechatText, wxauth.ErrBadResponse),
			wantStatus: 502, wantCode: session.CodeWeChatUnavailable},
		{name: "unreachable", c2sErr: errors.New("wxauth: code2session: request failed: dial tcp: connection refused " + wechatText),
			wantStatus: 502, wantCode: session.CodeWeChatUnavailable},
		{name: "timeout", c2sErr: fmt.Errorf("wxauth: code2session: %w", context.DeadlineExceeded),
			wantStatus: 502, wantCode: session.CodeWeChatUnavailable},
		{name: "no openid from the client", sess: &wxauth.Session{SessionKey: testKey},
			wantStatus: 502, wantCode: session.CodeWeChatUnavailable},
		{name: "wrong appsecret", c2sErr: apiErr(40125), wantStatus: 500, wantCode: session.CodeServerError},
		{name: "wrong appid", c2sErr: apiErr(40013), wantStatus: 500, wantCode: session.CodeServerError},
		{name: "ip not whitelisted", c2sErr: apiErr(40164), wantStatus: 500, wantCode: session.CodeServerError},
		{name: "daily quota spent", c2sErr: apiErr(45009), wantStatus: 503, wantCode: session.CodeQuotaExceeded},
		{name: "invalid args", c2sErr: apiErr(40097), wantStatus: 500, wantCode: session.CodeServerError},
		{name: "api security mode: bad signature", c2sErr: apiErr(40234), wantStatus: 500, wantCode: session.CodeServerError},
		{name: "api security mode: bad encryption", c2sErr: apiErr(40235), wantStatus: 500, wantCode: session.CodeServerError},
		{name: "api security mode: unsigned request", c2sErr: apiErr(934011), wantStatus: 500, wantCode: session.CodeServerError},
		{name: "unknown errcode", c2sErr: apiErr(12345), wantStatus: 502, wantCode: session.CodeWeChatUnavailable},

		{name: "signature mismatch", body: loginBody(t, map[string]string{"code": "c", "rawData": rawData, "signature": crypto.Sign(otherKey, rawData)}),
			wantStatus: 401, wantCode: session.CodeInvalidSignature},
		{name: "signature not hex", body: loginBody(t, map[string]string{"code": "c", "rawData": rawData, "signature": strings.Repeat("z", 40)}),
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "signature too short", body: loginBody(t, map[string]string{"code": "c", "rawData": rawData, "signature": "ab"}),
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "signature of other data", body: loginBody(t, map[string]string{"code": "c", "rawData": rawData + " ", "signature": crypto.Sign(testKey, rawData)}),
			wantStatus: 401, wantCode: session.CodeInvalidSignature},

		{name: "decrypt: not base64", body: loginBody(t, map[string]string{"code": "c", "encryptedData": "%%%", "iv": testIV}),
			wantStatus: 400, wantCode: session.CodeDecryptFailed},
		{name: "decrypt: other key", body: loginBody(t, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, otherKey, userInfoJSON(sess.OpenID, "", testAppID))}),
			wantStatus: 400, wantCode: session.CodeDecryptFailed},
		{name: "decrypt: truncated", body: loginBody(t, map[string]string{"code": "c", "encryptedData": goodData[:len(goodData)-8], "iv": testIV}),
			wantStatus: 400, wantCode: session.CodeDecryptFailed},
		{name: "bad iv, refused before the code is spent", body: loginBody(t, map[string]string{"code": "c", "encryptedData": goodData, "iv": "short"}),
			wantStatus: 400, wantCode: session.CodeInvalidRequest, noWeChat: true},
		{name: "no openId, another unionId", body: loginBody(t, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, userInfoJSON("", "oAnotherUnion", testAppID))}),
			wantStatus: 401, wantCode: session.CodeIdentityMismatch},
		{name: "decrypt: not JSON", body: loginBody(t, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, []byte("plain text"))}),
			wantStatus: 400, wantCode: session.CodeDecryptFailed},
		{name: "watermark of another app", body: loginBody(t, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, userInfoJSON(sess.OpenID, sess.UnionID, "wxotherapp"))}),
			wantStatus: 401, wantCode: session.CodeWatermarkMismatch},
		{name: "another openId", body: loginBody(t, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, userInfoJSON("oAnotherUser", sess.UnionID, testAppID))}),
			wantStatus: 401, wantCode: session.CodeIdentityMismatch},
		{name: "another unionId", body: loginBody(t, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, userInfoJSON(sess.OpenID, "oAnotherUnion", testAppID))}),
			wantStatus: 401, wantCode: session.CodeIdentityMismatch},
		{name: "a unionId code2session did not give", sess: noUnion, body: loginBody(t, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, userInfoJSON(sess.OpenID, "oSomeUnion", testAppID))}),
			wantStatus: 401, wantCode: session.CodeIdentityMismatch},

		{name: "hook refuses", hook: func(context.Context, *session.LoginInfo) (map[string]any, error) {
			return nil, fmt.Errorf("user banned: %w", session.ErrLoginRefused)
		}, wantStatus: 403, wantCode: session.CodeLoginRefused},
		{name: "hook refuses its own way", hook: func(context.Context, *session.LoginInfo) (map[string]any, error) {
			return nil, &session.HTTPError{Status: http.StatusConflict, Code: "phone_taken", Message: "this phone is bound to another account"}
		}, wantStatus: 409, wantCode: "phone_taken"},
		{name: "hook refuses with a bad status", hook: func(context.Context, *session.LoginInfo) (map[string]any, error) {
			return nil, &session.HTTPError{Status: 200, Code: "ok", Message: "not an error"}
		}, wantStatus: 500, wantCode: session.CodeServerError},
		{name: "hook fails", hook: func(context.Context, *session.LoginInfo) (map[string]any, error) {
			return nil, errors.New("db: connection reset " + wechatText)
		}, wantStatus: 500, wantCode: session.CodeServerError},
		{name: "hook fields not JSON", hook: func(context.Context, *session.LoginInfo) (map[string]any, error) {
			return map[string]any{"ch": make(chan int)}, nil
		}, wantStatus: 500, wantCode: session.CodeServerError},
		{name: "store down", storeDown: true, wantStatus: 503, wantCode: session.CodeStoreUnavailable},
	}

	messages := map[string]string{} // code -> message: one message per code
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sess
			if s == nil {
				s = sess
			}
			client := newFakeClient(t, s, tt.c2sErr)
			client.phoneErr = tt.phoneErr
			var wx miniauth.Apps = client
			if tt.plain {
				wx = plainClient{client}
			}
			store := newSpyStore()
			if tt.storeDown {
				store.fail(errDown)
			}
			log, logs := debugLogger()
			m := newManager(t, store, session.WithLogger(log))
			h := session.LoginHandler(wx, m, session.WithOnLogin(tt.hook))
			var r *http.Request
			switch {
			case tt.req != nil:
				r = tt.req()
			case tt.body == "":
				r = postLogin(`{"code":"the-code"}`)
			default:
				r = postLogin(tt.body)
			}

			rr := serve(t, h, r)
			require.Equal(t, tt.wantStatus, rr.Code, rr.Body.String())
			code, msg := errorJSON(t, rr)
			assert.Equal(t, tt.wantCode, code)
			if tt.wantStatus == 405 {
				assert.Equal(t, http.MethodPost, rr.Header().Get("Allow"))
			}
			if tt.noWeChat {
				assert.Zero(t, client.calls.Load(), "WeChat is not called")
				assert.Zero(t, client.phoneCalls.Load(), "the phone code is not spent")
			}
			if tt.phoneErr == nil && tt.wantStatus != 200 {
				assert.Zero(t, client.phoneCalls.Load(), "a refused login does not spend the phone code")
			}
			store.mu.Lock()
			assert.Empty(t, store.recs, "a refused login stores nothing")
			store.mu.Unlock()
			assert.NotContains(t, logs.String(), testKey, "no session key in the logs")
			assert.NotContains(t, logs.String(), "the-code", "no code in the logs")
			if tt.wantStatus == 500 && tt.hook == nil {
				assert.Contains(t, logs.String(), `"level":"ERROR"`, "misconfiguration is logged as an error")
			}
			if code != session.CodeInvalidRequest && tt.hook == nil {
				if prev, ok := messages[code]; ok {
					assert.Equal(t, prev, msg, "one message per code")
				}
				messages[code] = msg
			}
		})
	}
}

func TestLoginHandlerDecryptFailuresLookAlike(t *testing.T) {
	t.Parallel()
	sess := testSession()
	good := encrypt(t, testKey, userInfoJSON(sess.OpenID, sess.UnionID, testAppID))
	h := session.LoginHandler(newFakeClient(t, sess, nil), newManager(t, nil))
	var first string
	// An iv that is not base64 of 16 bytes is refused as a malformed request
	// before the code is spent: its form does not depend on the ciphertext.
	for i, fields := range []map[string]string{
		{"encryptedData": "%%%", "iv": testIV},
		{"encryptedData": good[:len(good)-4] + "AAA=", "iv": testIV}, // bad padding
		{"encryptedData": good[:24], "iv": testIV},                   // one block: bad padding or bad JSON
		{"encryptedData": good, "iv": otherKey},                      // wrong iv: garbage first block
	} {
		fields["code"] = "c"
		rr := serve(t, h, postLogin(loginBody(t, fields)))
		require.Equal(t, http.StatusBadRequest, rr.Code, rr.Body.String())
		if i == 0 {
			first = rr.Body.String()
			continue
		}
		assert.Equal(t, first, rr.Body.String(), "every decrypt failure gets the same answer (case %d)", i)
	}
}

func TestLoginHandlerSuccess(t *testing.T) {
	t.Parallel()
	sess := testSession()
	rawData := `{"nickName":"Band","gender":1}`
	userInfo := userInfoJSON(sess.OpenID, sess.UnionID, testAppID)
	tests := []struct {
		name         string
		sess         *wxauth.Session
		fields       map[string]string
		wantUserInfo bool
	}{
		{"code only", sess, map[string]string{"code": "c"}, false},
		{"no unionid", &wxauth.Session{OpenID: sess.OpenID, SessionKey: testKey}, map[string]string{"code": "c"}, false},
		{"rawData and signature", sess, map[string]string{"code": "c", "rawData": rawData, "signature": crypto.Sign(testKey, rawData)}, false},
		{"upper-case signature", sess, map[string]string{"code": "c", "rawData": rawData, "signature": strings.ToUpper(crypto.Sign(testKey, rawData))}, false},
		{"encryptedData", sess, map[string]string{"code": "c", "encryptedData": encrypt(t, testKey, userInfo), "iv": testIV}, true},
		{"getUserProfile's encryptedData: no openId, no unionId", sess, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, userInfoJSON("", "", testAppID))}, true},
		{"encryptedData with the openId only", sess, map[string]string{"code": "c", "iv": testIV,
			"encryptedData": encrypt(t, testKey, userInfoJSON(sess.OpenID, "", testAppID))}, true},
		{"everything, and unknown fields", sess, map[string]string{"code": "c", "rawData": rawData, "signature": crypto.Sign(testKey, rawData),
			"encryptedData": encrypt(t, testKey, userInfo), "iv": testIV, "cloudID": "x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newManager(t, nil)
			h := session.LoginHandler(newFakeClient(t, tt.sess, nil), m)
			rr := serve(t, h, postLogin(loginBody(t, tt.fields)))
			require.Equal(t, http.StatusOK, rr.Code, rr.Body.String())
			assert.Equal(t, "application/json; charset=utf-8", rr.Header().Get("Content-Type"))

			var resp map[string]any
			require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &resp))
			assert.EqualValues(t, 86400, resp["expiresIn"])
			assert.Equal(t, sess.OpenID, resp["openid"])
			if tt.sess.UnionID != "" {
				assert.Equal(t, tt.sess.UnionID, resp["unionid"])
			} else {
				assert.NotContains(t, resp, "unionid")
			}
			if tt.wantUserInfo {
				require.Contains(t, resp, "userInfo")
				assert.Equal(t, "Band", resp["userInfo"].(map[string]any)["nickName"])
			} else {
				assert.NotContains(t, resp, "userInfo")
			}
			for k := range resp {
				assert.Contains(t, []string{"token", "expiresIn", "openid", "unionid", "userInfo"}, k)
			}

			token, _ := resp["token"].(string)
			rec, err := m.Validate(context.Background(), token)
			require.NoError(t, err, "the token is valid")
			assert.Equal(t, tt.sess.OpenID, rec.OpenID)
			assert.Equal(t, testKey, rec.SessionKey, "the session key is kept on the server")
		})
	}
}

func TestLoginHandlerHook(t *testing.T) {
	t.Parallel()
	sess := testSession()
	rawData := `{"nickName":"Band"}`
	var got *session.LoginInfo
	hook := func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		got = info
		return map[string]any{
			"userId":  42,
			"isNew":   true,
			"token":   "forged",
			"openid":  "forged",
			"unionid": "forged",
		}, nil
	}
	m := newManager(t, nil)
	h := session.LoginHandler(newFakeClient(t, sess, nil), m, session.WithOnLogin(hook))
	rr := serve(t, h, postLogin(loginBody(t, map[string]string{
		"code": "c", "rawData": rawData, "signature": crypto.Sign(testKey, rawData),
		"encryptedData": encrypt(t, testKey, userInfoJSON(sess.OpenID, sess.UnionID, testAppID)), "iv": testIV,
	})))
	require.Equal(t, http.StatusOK, rr.Code, rr.Body.String())

	require.NotNil(t, got)
	assert.Equal(t, sess.OpenID, got.Session.OpenID)
	assert.Equal(t, testKey, got.Session.SessionKey, "the hook may use the session key")
	assert.Equal(t, rawData, got.RawData)
	require.NotNil(t, got.UserInfo)
	assert.Equal(t, "Band", got.UserInfo.NickName)

	var resp map[string]any
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &resp))
	assert.EqualValues(t, 42, resp["userId"])
	assert.Equal(t, true, resp["isNew"])
	assert.NotEqual(t, "forged", resp["token"], "the hook cannot replace the token")
	assert.Equal(t, sess.OpenID, resp["openid"])
	assert.Equal(t, sess.UnionID, resp["unionid"])
	_, err := m.Validate(context.Background(), resp["token"].(string))
	require.NoError(t, err)
}

func TestLoginHandlerMisconfigured(t *testing.T) {
	t.Parallel()
	client := newFakeClient(t, testSession(), nil)
	m := newManager(t, nil)
	for name, h := range map[string]http.Handler{
		"nil client":  session.LoginHandler(nil, m),
		"nil manager": session.LoginHandler(client, nil),
		"bad manager": session.LoginHandler(client, session.NewManager(nil, session.WithClock(nil))),
	} {
		t.Run(name, func(t *testing.T) {
			rr := serve(t, h, postLogin(`{"code":"c"}`))
			assert.Equal(t, http.StatusInternalServerError, rr.Code)
			code, _ := errorJSON(t, rr)
			assert.Equal(t, session.CodeServerError, code)
		})
	}
	assert.Zero(t, client.calls.Load())
}

func TestLoginHandlerClientGone(t *testing.T) {
	t.Parallel()
	log, logs := debugLogger()
	client := newFakeClient(t, testSession(), nil)
	h := session.LoginHandler(client, newManager(t, nil, session.WithLogger(log)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rr := serve(t, h, postLogin(`{"code":"c"}`).WithContext(ctx))
	assert.Equal(t, session.StatusClientClosedRequest, rr.Code)
	assert.NotContains(t, logs.String(), `"level":"ERROR"`, "a client that left is no server error")
	assert.NotContains(t, logs.String(), `"level":"WARN"`)
}

func TestLoginHandlerErrorHandler(t *testing.T) {
	t.Parallel()
	var got *session.HTTPError
	m := newManager(t, nil, session.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *session.HTTPError) {
		got = e
		session.WriteError(w, r, &session.HTTPError{Status: e.Status, Code: "custom_" + e.Code, Message: e.Message})
	}))
	h := session.LoginHandler(newFakeClient(t, testSession(), apiErr(40163)), m)
	rr := serve(t, h, postLogin(`{"code":"c"}`))
	assert.Equal(t, http.StatusUnauthorized, rr.Code)
	code, _ := errorJSON(t, rr)
	assert.Equal(t, "custom_code_used", code)
	require.NotNil(t, got)
	assert.ErrorIs(t, got, wxauth.ErrCodeUsed, "the cause reaches the error handler")
}

// wechatMock returns a wxauth client whose requests go to a per-test httpmock
// transport that answers code2session with reply.
func wechatMock(t testing.TB, reply string) (*wxauth.App, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, wxauth.DefaultBaseURL+"/sns/jscode2session", func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(http.StatusOK, reply)
		resp.Header.Set("Content-Type", "text/plain") // as WeChat does
		return resp, nil
	})
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithHTTPClient(&http.Client{Transport: mt}), wxauth.WithRetry(0))
	require.NoError(t, err)
	return app, mt
}

func TestLoginHandlerEndToEnd(t *testing.T) {
	t.Parallel()
	sess := testSession()
	reply := fmt.Sprintf(`{"openid":%q,"session_key":%q,"unionid":%q}`, sess.OpenID, sess.SessionKey, sess.UnionID)
	app, mt := wechatMock(t, reply)
	m := newManager(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/api/login", session.LoginHandler(app, m))
	mux.Handle("/api/me", m.Middleware(echoOpenID))

	rr := serve(t, mux, httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(loginBody(t, map[string]string{
		"code": "0a3Xyz", "iv": testIV, "encryptedData": encrypt(t, testKey, userInfoJSON(sess.OpenID, sess.UnionID, testAppID)),
	}))))
	require.Equal(t, http.StatusOK, rr.Code, rr.Body.String())
	assert.Equal(t, 1, mt.GetTotalCallCount())
	var resp struct {
		Token    string           `json:"token"`
		UserInfo *wxauth.UserInfo `json:"userInfo"`
	}
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &resp))
	require.NotNil(t, resp.UserInfo)
	assert.Equal(t, "Band", resp.UserInfo.NickName)

	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+resp.Token)
	me := serve(t, mux, r)
	assert.Equal(t, http.StatusOK, me.Code)
	assert.Equal(t, sess.OpenID, me.Body.String())

	used, _ := wechatMock(t, `{"errcode":40163,"errmsg":"code been used, `+wechatText+` rid: 1a2b"}`)
	rr = serve(t, session.LoginHandler(used, m), postLogin(`{"code":"0a3Xyz"}`))
	assert.Equal(t, http.StatusUnauthorized, rr.Code)
	code, _ := errorJSON(t, rr)
	assert.Equal(t, session.CodeCodeUsed, code)
}

func FuzzLoginRequest(f *testing.F) {
	f.Add(`{"code":"c"}`)
	f.Add(`{"code":"c","rawData":"{}","signature":"00"}`)
	f.Add(`{"code":"c","encryptedData":"AAAA","iv":"` + testIV + `"}`)
	f.Add(`{"code":"c","phoneCode":"pc"}`)
	f.Add(`{"code":"c","\u017fignature":"x","signature":"y"}`)
	f.Add(`{"code":1}`)
	f.Add(`null`)
	f.Add(``)
	client := newFakeClient(f, testSession(), nil)
	client.phone = &wxauth.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
	m := session.NewManager(nil)
	defer m.Close()
	h := session.LoginHandler(client, m)
	allowed := map[int]bool{200: true, 400: true, 401: true, 413: true}
	f.Fuzz(func(t *testing.T, body string) {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, postLogin(body))
		if !allowed[rr.Code] {
			t.Fatalf("status %d for %q", rr.Code, body)
		}
		if strings.Contains(rr.Body.String(), testKey) {
			t.Fatal("the session key reached the client")
		}
		var resp map[string]any
		if err := json.Unmarshal(rr.Body.Bytes(), &resp); err != nil {
			t.Fatalf("the answer is not JSON: %q", rr.Body.String())
		}
		if _, ok := resp["error"]; ok == (rr.Code == http.StatusOK) {
			t.Fatalf("status %d with body %q", rr.Code, rr.Body.String())
		}
	})
}
