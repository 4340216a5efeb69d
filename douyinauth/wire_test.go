package douyinauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/douyinauth"
)

// mockApp returns an App whose every request is answered by respond, on a
// transport of its own (never the global httpmock).
func mockApp(t *testing.T, respond func(*http.Request) (int, string), opts ...douyinauth.Option) *douyinauth.App {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		status, body := respond(r)
		resp := httpmock.NewStringResponse(status, body)
		resp.Header.Set("Content-Type", "application/json")
		return resp, nil
	})
	app, err := douyinauth.New(testAppID, testSecret, append([]douyinauth.Option{
		douyinauth.WithHTTPClient(&http.Client{Transport: mt}),
		douyinauth.WithPrivateKey(privatePEM(t)),
		douyinauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	return app
}

// seen is what a mock saw of one request.
type seen struct {
	method, url, contentType, token string
	body                            map[string]any
}

func record(t *testing.T, mu *sync.Mutex, log *[]seen, r *http.Request) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(b, &body), "every body is a JSON object")
	mu.Lock()
	defer mu.Unlock()
	*log = append(*log, seen{r.Method, r.URL.String(), r.Header.Get("Content-Type"), r.Header.Get("access-token"), body})
}

// TestWireShapes checks each request against the documented shape (method,
// host, path, JSON body, the token header) and decodes each documented
// success envelope.
func TestWireShapes(t *testing.T) {
	t.Parallel()
	ct := encryptPhone(t, `{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"appid":"`+testAppID+`","timestamp":1700000000}}`)
	var mu sync.Mutex
	var log []seen
	app := mockApp(t, func(r *http.Request) (int, string) {
		record(t, &mu, &log, r)
		switch r.URL.Host + r.URL.Path {
		case "developer.toutiao.com/api/apps/v2/jscode2session":
			// The v2 page's example, with the extra dopenid developers saw.
			return 200, `{"err_no":0,"err_tips":"success","log_id":"2022092115","data":{"session_key":"h0rt4/77I09nDuSWeGwKKw==","openid":"_000xqQFDk","anonymous_openid":"","unionid":"ab085c8d-6911-4sca-ba17-257vh646cba8","dopenid":""}}`
		case "open.douyin.com/oauth/client_token/":
			// The client_token page's example.
			return 200, `{"data":{"access_token":"clt.75c380db41e815978a733994d96f5d23RqilUxH48iobyWhbIOQFo","description":"","error_code":0,"expires_in":7200},"message":"success"}`
		case "open.douyin.com/api/apps/v1/get_phonenumber_info/":
			return 200, `{"err_no":0,"err_msg":"","log_id":"20230525105733ED3ED7AC56A","data":"` + ct + `"}`
		}
		return 404, "not found"
	})
	ctx := context.Background()
	s, err := app.Code2Session(ctx, "fb93de745xBa9DyeMuM8q4QQLeD")
	require.NoError(t, err)
	assert.Equal(t, "_000xqQFDk", s.OpenID)
	assert.Equal(t, "ab085c8d-6911-4sca-ba17-257vh646cba8", s.UnionID)
	p, err := app.GetPhoneNumber(ctx, "phonecode1", miniauth.ForOpenID("_000xqQFDk"))
	require.NoError(t, err)
	assert.Equal(t, "13800138000", p.PhoneNumber)
	assert.Equal(t, "86", p.CountryCode)
	assert.Equal(t, testAppID, p.Watermark.AppID)

	require.Len(t, log, 3)
	for _, r := range log {
		assert.Equal(t, http.MethodPost, r.method)
		assert.Equal(t, "application/json", r.contentType)
	}
	assert.Equal(t, seen{http.MethodPost, "https://developer.toutiao.com/api/apps/v2/jscode2session", "application/json", "",
		map[string]any{"appid": testAppID, "secret": testSecret, "code": "fb93de745xBa9DyeMuM8q4QQLeD", "anonymous_code": ""}}, log[0])
	assert.Equal(t, seen{http.MethodPost, "https://open.douyin.com/oauth/client_token/", "application/json", "",
		map[string]any{"client_key": testAppID, "client_secret": testSecret, "grant_type": "client_credential"}}, log[1])
	assert.Equal(t, seen{http.MethodPost, "https://open.douyin.com/api/apps/v1/get_phonenumber_info/", "application/json",
		"clt.75c380db41e815978a733994d96f5d23RqilUxH48iobyWhbIOQFo", map[string]any{"code": "phonecode1"}}, log[2])
}

// TestErrorEnvelopes decodes every documented error envelope into an
// APIError of its API, with the sentinel of its code.
func TestErrorEnvelopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		call     string // "login" or "phone"
		tokenRep string // the client_token reply, for "phone"
		reply    string
		op       string
		code     int64
		msg      string
		logID    string
		sentinel error
	}{
		{name: "v2 bad code", call: "login", reply: `{"err_no":40018,"err_tips":"bad code","log_id":"L1","data":null}`,
			op: "jscode2session", code: 40018, msg: "bad code", logID: "L1", sentinel: douyinauth.ErrInvalidCode},
		{name: "v2 bad secret, err_no as a string", call: "login", reply: `{"err_no":"40017","err_tips":"bad secret"}`,
			op: "jscode2session", code: 40017, msg: "bad secret", sentinel: douyinauth.ErrInvalidCredential},
		{name: "v2 bad appid", call: "login", reply: `{"err_no":40015,"err_tips":"bad appid","data":{}}`,
			op: "jscode2session", code: 40015, msg: "bad appid", sentinel: douyinauth.ErrInvalidCredential},
		{name: "v2 bad params", call: "login", reply: `{"err_no":40014,"err_tips":"bad params"}`,
			op: "jscode2session", code: 40014, msg: "bad params"},
		{name: "oauth unknown client_key", call: "phone",
			tokenRep: `{"data":{"captcha":"","desc_url":"","description":"配置无效","error_code":10003},"message":"error"}`,
			op:       "client_token", code: 10003, msg: "配置无效", sentinel: douyinauth.ErrInvalidCredential},
		{name: "oauth wrong secret, with extra.logid", call: "phone",
			tokenRep: `{"data":{"description":"client_key 或者 client_secret 报错","error_code":10013},"message":"error","extra":{"logid":"X9","now":1}}`,
			op:       "client_token", code: 10013, msg: "client_key 或者 client_secret 报错", logID: "X9", sentinel: douyinauth.ErrInvalidCredential},
		{name: "v1 expired phone code", call: "phone", reply: `{"err_no":28005187,"err_msg":"code expired","log_id":"L2","data":""}`,
			op: "get_phonenumber_info", code: 28005187, msg: "code expired", logID: "L2", sentinel: douyinauth.ErrInvalidPhoneCode},
		{name: "v1 bad parameter", call: "phone", reply: `{"err_no":28001007,"err_msg":"参数不合法","log_id":"L3"}`,
			op: "get_phonenumber_info", code: 28001007, msg: "参数不合法", logID: "L3", sentinel: douyinauth.ErrInvalidPhoneCode},
		{name: "v1 app banned", call: "phone", reply: `{"err_no":28001016,"err_msg":"当前应用已被封禁或下线"}`,
			op: "get_phonenumber_info", code: 28001016, msg: "当前应用已被封禁或下线", sentinel: douyinauth.ErrNotAllowed},
		{name: "v1 rate limited", call: "phone", reply: `{"err_no":28003018,"err_msg":"请求频率过高"}`,
			op: "get_phonenumber_info", code: 28003018, msg: "请求频率过高", sentinel: douyinauth.ErrRateLimited},
		{name: "v1 quota", call: "phone", reply: `{"err_no":28003017,"err_msg":"quota 已用完"}`,
			op: "get_phonenumber_info", code: 28003017, msg: "quota 已用完", sentinel: douyinauth.ErrQuotaExceeded},
		{name: "v1 unknown code", call: "phone", reply: `{"err_no":28001099,"err_msg":"new\nline\u001b[31m"}`,
			op: "get_phonenumber_info", code: 28001099, msg: "new\uFFFDline\uFFFD[31m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := mockApp(t, func(r *http.Request) (int, string) {
				switch r.URL.Path {
				case "/oauth/client_token/":
					if tt.tokenRep != "" {
						return 200, tt.tokenRep
					}
					return 200, `{"data":{"access_token":"clt.x","error_code":0,"expires_in":7200},"message":"success"}`
				}
				return 200, tt.reply
			}, douyinauth.WithRetry(0))
			var err error
			if tt.call == "login" {
				_, err = app.Code2Session(context.Background(), "code")
			} else {
				_, err = app.GetPhoneNumber(context.Background(), "code")
			}
			var ae *douyinauth.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, &douyinauth.APIError{Op: tt.op, Code: tt.code, Msg: tt.msg, LogID: tt.logID}, ae)
			for _, s := range []error{douyinauth.ErrInvalidCode, douyinauth.ErrInvalidCredential, douyinauth.ErrInvalidPhoneCode,
				douyinauth.ErrNotAllowed, douyinauth.ErrRateLimited, douyinauth.ErrQuotaExceeded, douyinauth.ErrSystemBusy} {
				assert.Equal(t, s == tt.sentinel, errorsIs(err, s), "%v", s)
			}
		})
	}
}

// TestRetries: busy codes and 5xx are retried with backoff, others are not.
func TestRetries(t *testing.T) {
	t.Parallel()
	ok := `{"err_no":0,"data":{"openid":"o1","session_key":"h0rt4/77I09nDuSWeGwKKw=="}}`
	tests := []struct {
		name    string
		first   []string // replies before ok ("502" for an HTTP status)
		calls   int
		wantErr error
	}{
		{"busy -1 once", []string{`{"err_no":-1,"err_tips":"system error"}`}, 2, nil},
		{"502 twice", []string{"502", "502"}, 3, nil},
		{"busy three times", []string{`{"err_no":-1}`, `{"err_no":-1}`, `{"err_no":-1}`}, 3, douyinauth.ErrSystemBusy},
		{"400 not retried", []string{"400"}, 1, douyinauth.ErrBadResponse},
		{"bad code not retried", []string{`{"err_no":40018}`}, 1, douyinauth.ErrInvalidCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			n := 0
			app := mockApp(t, func(*http.Request) (int, string) {
				mu.Lock()
				defer mu.Unlock()
				n++
				if n <= len(tt.first) {
					r := tt.first[n-1]
					if s, err := strconv.Atoi(r); err == nil {
						return s, "gateway"
					}
					return 200, r
				}
				return 200, ok
			})
			_, err := app.Code2Session(context.Background(), "code")
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tt.calls, n)
		})
	}
}

// encryptPhone encrypts plain as Douyin does, for the test key.
func encryptPhone(t *testing.T, plain string) string {
	t.Helper()
	return base64.StdEncoding.EncodeToString(rsaEncrypt(t, []byte(plain)))
}
