package wxauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// FuzzServeSecured sends arbitrary requests, headers and bodies to the
// secured APIs of a server in the API security mode: it must never panic,
// must answer JSON as text/plain, and must never hand out a phone number
// for a request it could not verify (an unsigned reply is a refusal).
func FuzzServeSecured(f *testing.F) {
	const (
		appID  = "wx0123456789abcdef"
		secret = "0123456789abcdef0123456789abcdef"
		token  = "fuzz-token"
		phone  = "e31968a7f94cc5ee25fafc2aef2773f0"
	)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	sec, err := newAPISecurity(now) // once: key generation is slow
	if err != nil {
		f.Fatal(err)
	}
	ts := "1714564800" // now
	for _, s := range []struct{ path, ts, sig, body string }{
		{PathPhoneNumber, ts, "", `{"code":"` + phone + `"}`},
		{PathPhoneNumber, ts, "AAAA", `{"iv":"fmW/zNxXlytUZBgj","data":"0IDV","authtag":"5qeM/2vZv+6KtScN94IpMg=="}`},
		{PathCheckEncrypted, "-1", "!!", `{"iv":1,"data":[],"authtag":null}`},
		{PathCheckEncrypted, "99999999999999999999", "", "\x00\xff{"},
	} {
		f.Add(s.path, s.ts, s.sig, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, path, tsHeader, sig string, body []byte) {
		s := newServer(appID, secret, config{now: func() time.Time { return now }, rateLimit: 2})
		s.sec = sec
		s.AddUser(User{OpenID: "o1"})
		s.phoneCodes[phone] = &issuedCode{openID: "o1", issued: now, appID: appID}
		s.tokens.stable = accessToken{value: token, expires: now.Add(TokenTTL)}
		if !securedPaths[path] {
			path = PathPhoneNumber
		}
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: path, RawQuery: "access_token=" + token},
			Host:   "127.0.0.1:1",
			Header: http.Header{"Wechatmp-Appid": {appID}, "Wechatmp-Timestamp": {tsHeader}, "Wechatmp-Signature": {sig}},
			Body:   io.NopCloser(bytes.NewReader(body)),
			Proto:  "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}
		w := httptest.NewRecorder()
		s.serve(w, r.WithContext(context.Background()))
		res := w.Result()
		if res.StatusCode == http.StatusRequestEntityTooLarge && len(body) > maxBodyLen {
			return
		}
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var reply map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
			t.Fatalf("reply is not a JSON object: %q", w.Body.Bytes())
		}
		if res.Header.Get("Wechatmp-Signature") != "" {
			t.Fatalf("a request no client signed was answered sealed")
		}
		if code, _ := reply["errcode"].(float64); code == 0 {
			t.Fatalf("a request no client signed was accepted: %s", w.Body.Bytes())
		}
	})
}
