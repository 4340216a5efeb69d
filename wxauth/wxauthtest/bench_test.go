package wxauthtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// BenchmarkCode2Session measures one wx.login and its jscode2session
// exchange through the handler (no network): Login, then the request.
func BenchmarkCode2Session(b *testing.B) {
	s := newServer("wx0123456789abcdef", "secret", config{now: time.Now, rateLimit: 1 << 30})
	q := url.Values{"appid": {"wx0123456789abcdef"}, "secret": {"secret"}, "grant_type": {"authorization_code"}}
	b.ReportAllocs()
	for b.Loop() {
		q.Set("js_code", s.Login("o1"))
		r := httptest.NewRequest(http.MethodGet, PathCode2Session+"?"+q.Encode(), nil)
		w := httptest.NewRecorder()
		s.serve(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkBaselineHandler is the floor BenchmarkCode2Session compares with:
// the same request and reply through a handler that only encodes a fixed
// reply.
func BenchmarkBaselineHandler(b *testing.B) {
	reply := code2SessionReply{OpenID: "o1", SessionKey: newSessionKey()}
	h := func(w http.ResponseWriter, r *http.Request) {
		_ = r.URL.Query()
		body, _ := json.Marshal(reply)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	}
	q := url.Values{"appid": {"wx0123456789abcdef"}, "secret": {"secret"}, "grant_type": {"authorization_code"}}
	b.ReportAllocs()
	for b.Loop() {
		q.Set("js_code", randomString(32, alnumAlphabet))
		r := httptest.NewRequest(http.MethodGet, PathCode2Session+"?"+q.Encode(), nil)
		w := httptest.NewRecorder()
		h(w, r)
	}
}
