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

// FuzzServe sends arbitrary requests to the handler: it must never panic,
// must answer a known path with JSON as text/plain (or 413 for a body over
// the limit), and must never echo the app secret.
func FuzzServe(f *testing.F) {
	const (
		appID  = "wx0123456789abcdef"
		secret = "0123456789abcdef0123456789abcdef"
		code   = "0a1b2c3d4e5f0a1b2c3d4e5f0a1b2c3d" // a live login code of o1
		phone  = "e31968a7f94cc5ee25fafc2aef2773f0" // a live phone code of o1
		token  = "fuzz-token"                       // a live access_token
	)
	seeds := []struct {
		method, path, query, body string
	}{
		{"GET", PathCode2Session, "appid=" + appID + "&secret=" + secret + "&js_code=" + code + "&grant_type=authorization_code", ""},
		{"GET", PathCode2Session, "appid=" + appID + "&secret=wrong&js_code=x", ""},
		{"GET", PathCode2Session, "%zz&appid=;&&==", ""},
		{"GET", PathToken, "grant_type=client_credential&appid=" + appID + "&secret=" + secret, ""},
		{"POST", PathStableToken, "", `{"grant_type":"client_credential","appid":"` + appID + `","secret":"` + secret + `","force_refresh":true}`},
		{"POST", PathStableToken, "", `{"appid":1e999,"secret":null}`},
		{"POST", PathStableToken, "", "\x00\xff{"},
		{"POST", PathPhoneNumber, "access_token=" + token, `{"code":"` + phone + `","openid":"o1"}`},
		{"POST", PathPhoneNumber, "access_token=" + token, `[{"code":[]}]`},
		{"GET", PathCheckSession, "access_token=" + token + "&openid=o1&sig_method=hmac_sha256&signature=ABCDEF", ""},
		{"GET", PathResetSessionKey, "access_token=" + token + "&openid=o1&sig_method=hmac_sha256&signature=", ""},
		{"DELETE", PathResetSessionKey, "", "x"},
		{"POST", PathCheckEncrypted, "access_token=" + token, `{"encrypted_msg_hash":"` + phone + phone + `"}`},
		{"GET", "/../../etc/passwd", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		s := newServer(appID, secret, config{now: func() time.Time { return now }, rateLimit: 2})
		s.AddUser(User{OpenID: "o1", UnionID: "u1"})
		s.Login("o1")
		s.codes[code] = &issuedCode{openID: "o1", issued: now}
		s.phoneCodes[phone] = &issuedCode{openID: "o1", issued: now}
		s.tokens.stable = accessToken{value: token, expires: now.Add(TokenTTL)}

		r := &http.Request{
			Method:     method,
			URL:        &url.URL{Path: path, RawQuery: query},
			Header:     http.Header{},
			Body:       io.NopCloser(bytes.NewReader(body)),
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
		}
		w := httptest.NewRecorder()
		s.serve(w, r.WithContext(context.Background()))

		res := w.Result()
		got := w.Body.Bytes()
		if bytes.Contains(got, []byte(secret)) {
			t.Fatalf("reply echoes the app secret: %s", got)
		}
		if _, known := endpoints[path]; !known {
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("unknown path %q: status %d", path, res.StatusCode)
			}
			return
		}
		if res.StatusCode == http.StatusRequestEntityTooLarge && len(body) > maxBodyLen {
			return
		}
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("%s %s: status %d, Content-Type %q", method, path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		var reply map[string]any
		if err := json.Unmarshal(got, &reply); err != nil {
			t.Fatalf("%s %s: reply is not a JSON object: %q", method, path, got)
		}
	})
}
