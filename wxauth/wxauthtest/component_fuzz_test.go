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

// FuzzComponentServe sends arbitrary requests to the component fake's
// handler: it must never panic, must answer a known path with JSON as
// text/plain (or 413 for a body over the limit), and must never echo the
// component secret or a refresh token.
func FuzzComponentServe(f *testing.F) {
	const (
		appID   = "wx0c0e1f2a3b4c5d6e"
		secret  = "c0mp0nent-s3cret-0123456789abcdef"
		auth    = "wxa1b2c3d4e5f60718"
		ticket  = "ticket@@@fuzz"
		token   = "component-fuzz-token"
		refresh = "refreshtoken@@@fuzz-0123456789"
		code    = "0a1b2c3d4e5f0a1b2c3d4e5f0a1b2c3d"
	)
	seeds := []struct{ method, path, query, body string }{
		{"POST", PathComponentToken, "", `{"component_appid":"` + appID + `","component_appsecret":"` + secret + `","component_verify_ticket":"` + ticket + `"}`},
		{"POST", PathComponentToken, "", `{"component_appid":1e999}`},
		{"GET", PathComponentCode2Session, "appid=" + auth + "&js_code=" + code + "&grant_type=authorization_code&component_appid=" + appID + "&component_access_token=" + token, ""},
		{"GET", PathComponentCode2Session, "%zz&appid=;&&==", ""},
		{"POST", PathAuthorizerToken, "component_access_token=" + token, `{"component_appid":"` + appID + `","authorizer_appid":"` + auth + `","authorizer_refresh_token":"` + refresh + `"}`},
		{"POST", PathQueryAuth, "component_access_token=" + token, `{"component_appid":"` + appID + `","authorization_code":"x"}`},
		{"POST", PathPhoneNumber, "access_token=" + token, `{"code":"x"}`},
		{"PUT", PathQueryAuth, "", "\x00\xff{"},
		{"GET", "/cgi-bin/component/other", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		cs := &ComponentServer{
			appID: appID, secret: secret, token: "t", encodingAESKey: "k",
			cfg:    config{now: func() time.Time { return now }, rateLimit: 2},
			closed: make(chan struct{}), apps: map[string]*authorizer{}, authCodes: map[string]*authCode{},
			calls: map[string]int{}, faults: map[string][]fault{},
		}
		srv, _ := cs.Authorize(auth)
		cs.apps[auth].refresh = refresh
		srv.AddUser(User{OpenID: "o1"})
		srv.codes[code] = &issuedCode{openID: "o1", issued: now}
		cs.tickets = []issuedTicket{{value: ticket, issued: now}}
		cs.tokens.plain = accessToken{value: token, expires: now.Add(TokenTTL)}

		r := &http.Request{
			Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}
		w := httptest.NewRecorder()
		cs.serve(w, r.WithContext(context.Background()))
		res := w.Result()
		got := w.Body.Bytes()
		if bytes.Contains(got, []byte(secret)) {
			t.Fatalf("reply echoes the component secret: %s", got)
		}
		// Only the two APIs that hand refresh tokens out may show one.
		if bytes.Contains(got, []byte(refresh)) && path != PathAuthorizerToken && path != PathQueryAuth {
			t.Fatalf("%s: reply shows a refresh token: %s", path, got)
		}
		if _, known := componentEndpoints[path]; !known {
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
