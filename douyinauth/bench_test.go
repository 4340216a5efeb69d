package douyinauth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/internal/testutil"
)

// c2sReply is what the loopback Douyin of the benchmarks answers every
// jscode2session with.
const c2sReply = `{"err_no":0,"err_tips":"success","log_id":"20230525105733ED3ED7AC56A","data":{"session_key":"h0rt4/77I09nDuSWeGwKKw==","openid":"_000xqQFDkTQ5fiSpCDBfuykZ2Whd4dyB2vy","anonymous_openid":"","unionid":"ab085c8d-6911-4dca-ba17-257eb646cba8","dopenid":""}}`

// floorCode2Session is the floor Code2Session is measured against: the same
// exchange written plainly with net/http and encoding/json (marshal the
// body, POST it, read the reply under 1 MiB, unmarshal, check err_no and
// openid), with no retry, redaction or validation.
func floorCode2Session(ctx context.Context, hc *http.Client, base, code string) error {
	body, err := json.Marshal(map[string]string{"appid": testAppID, "secret": testSecret, "code": code, "anonymous_code": ""})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/apps/v2/jscode2session", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var r struct {
		ErrNo int64 `json:"err_no"`
		Data  struct {
			SessionKey string `json:"session_key"`
			OpenID     string `json:"openid"`
			UnionID    string `json:"unionid"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	if r.ErrNo != 0 || r.Data.OpenID == "" {
		return errors.New("refused")
	}
	return nil
}

// BenchmarkCode2Session measures App.Code2Session against the floor on the
// same loopback server, interleaved in one run ("ratio": impl/floor).
func BenchmarkCode2Session(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, c2sReply)
	}))
	b.Cleanup(srv.Close)
	app, err := douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.Cleanup(hc.CloseIdleConnections)
	ctx := context.Background()
	const code = "fb93de745a1b2c3dxBa9DyeMuM8q4QQLeD"
	impl := func() error { _, err := app.Code2Session(ctx, code); return err }
	floor := func() error { return floorCode2Session(ctx, hc, srv.URL, code) }
	b.Run("ratio", func(b *testing.B) { testutil.CompareToFloor(b, 5, impl, floor) })
}

// BenchmarkDecryptPhone measures the decryption of get_phonenumber_info's
// reply (base64, RSA-2048 PKCS#1 v1.5, JSON, watermark) against the floor of
// the same steps with the standard library and no checks.
func BenchmarkDecryptPhone(b *testing.B) {
	k := testKey()
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &k.PublicKey, []byte(`{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"appid":"`+testAppID+`","timestamp":1700000000}}`))
	if err != nil {
		b.Fatal(err)
	}
	data := base64.StdEncoding.EncodeToString(ct)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/client_token/" {
			_, _ = io.WriteString(w, `{"data":{"access_token":"clt.x","error_code":0,"expires_in":7200},"message":"success"}`)
			return
		}
		_, _ = io.WriteString(w, `{"err_no":0,"err_msg":"","log_id":"L","data":"`+data+`"}`)
	}))
	b.Cleanup(srv.Close)
	app, err := douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL), douyinauth.WithPrivateKey(privatePEM(b)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	impl := func() error { _, err := app.GetPhoneNumber(ctx, "phonecode"); return err }
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.Cleanup(hc.CloseIdleConnections)
	floor := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/apps/v1/get_phonenumber_info/", bytes.NewReader([]byte(`{"code":"phonecode"}`)))
		if err != nil {
			return err
		}
		req.Header.Set("access-token", "clt.x")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var r struct {
			Data string `json:"data"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			return err
		}
		plain, err := rsa.DecryptPKCS1v15(nil, k, raw)
		if err != nil {
			return err
		}
		var p miniauth.PhoneNumber
		return json.Unmarshal(plain, &p)
	}
	b.Run("ratio", func(b *testing.B) { testutil.CompareToFloor(b, 5, impl, floor) })
}
