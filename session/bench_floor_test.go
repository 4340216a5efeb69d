package session_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// benchFloorLoad runs the floor of BenchmarkLoginLoad: the login server a
// careful developer writes by hand with net/http alone ([floorServer]),
// against the same fake WeChat and under the same load as the README's
// wiring, and returns its logins/s.
func benchFloorLoad(b *testing.B, clients int) float64 {
	wx := wxauthtest.NewServer(testAppID, testSecret, wxauthtest.WithRateLimit(1<<30))
	b.Cleanup(wx.Close)
	// The transport a careful developer configures: http.DefaultTransport's
	// two idle connections per host would reconnect under 50 clients.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 100
	b.Cleanup(tr.CloseIdleConnections)
	fs := &floorServer{
		wxURL: wx.URL, appID: testAppID, secret: testSecret, ttl: 2 * time.Hour,
		hc:       &http.Client{Transport: tr, Timeout: 5 * time.Second},
		sessions: make(map[string]floorSession),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", fs.login)
	mux.HandleFunc("GET /api/me", fs.me)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return runLoginLoad(b, wx, srv.URL, clients, false)
}

// floorServer is a login server written by hand: encoding/json for the
// body and WeChat's answer, one GET of jscode2session with the standard
// library's client, a token of 32 bytes from crypto/rand, sessions in a map
// under a mutex. It checks what it must (body size, errcode, openid, token
// expiry) and nothing more: no retries, no logging, no phone, no store
// outage handling.
type floorServer struct {
	wxURL, appID, secret string
	ttl                  time.Duration
	hc                   *http.Client

	mu       sync.RWMutex
	sessions map[string]floorSession
}

type floorSession struct {
	openID, sessionKey string
	expires            time.Time
}

func (s *floorServer) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil || in.Code == "" {
		http.Error(w, `{"error":"bad_request"}`, http.StatusBadRequest)
		return
	}
	q := url.Values{"appid": {s.appID}, "secret": {s.secret}, "js_code": {in.Code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, s.wxURL+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		http.Error(w, `{"error":"upstream"}`, http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var out struct {
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
		UnionID    string `json:"unionid"`
		ErrCode    int    `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		http.Error(w, `{"error":"upstream"}`, http.StatusBadGateway)
		return
	}
	if out.ErrCode != 0 || out.OpenID == "" || out.SessionKey == "" {
		http.Error(w, `{"error":"invalid_code"}`, http.StatusUnauthorized)
		return
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	s.mu.Lock()
	s.sessions[token] = floorSession{openID: out.OpenID, sessionKey: out.SessionKey, expires: time.Now().Add(s.ttl)}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expiresIn"`
		OpenID    string `json:"openid"`
		UnionID   string `json:"unionid,omitempty"`
	}{token, int(s.ttl / time.Second), out.OpenID, out.UnionID})
}

func (s *floorServer) me(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.RLock()
	sess, found := s.sessions[token]
	s.mu.RUnlock()
	if !ok || !found || time.Now().After(sess.expires) {
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	_, _ = io.WriteString(w, sess.openID)
}
