package session_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// floorTarget starts the floor of the login benchmarks: the login server
// a careful developer writes by hand with net/http alone ([floorServer]),
// against a fake WeChat of its own. Its sessions are in a map under a
// mutex, or with rdb in Redis ([floorRedis]).
func floorTarget(b *testing.B, rdb *redis.Client) *loadTarget {
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
		sessions: &floorMap{m: make(map[string]floorSession)},
	}
	if rdb != nil {
		fs.sessions = floorRedis{rdb: rdb, prefix: redistest.Prefix(b, rdb)}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", fs.login)
	mux.HandleFunc("GET /api/me", fs.me)
	return newLoadTarget(b, wx, mux)
}

// floorServer is a login server written by hand: encoding/json for the
// body and WeChat's answer, one GET of jscode2session with the standard
// library's client, a token of 32 bytes from crypto/rand, sessions in a map
// under a mutex or in Redis. It checks what it must (body size, errcode,
// openid, token expiry) and nothing more: no retries, no logging, no
// phone, no store outage handling, no revocation.
type floorServer struct {
	wxURL, appID, secret string
	ttl                  time.Duration
	hc                   *http.Client
	sessions             floorStore
}

type floorSession struct {
	OpenID     string    `json:"openid"`
	SessionKey string    `json:"session_key"`
	Expires    time.Time `json:"expires"`
}

// floorStore keeps the floor's sessions by token.
type floorStore interface {
	put(ctx context.Context, token string, s floorSession, ttl time.Duration) error
	get(ctx context.Context, token string) (floorSession, bool, error)
}

// floorMap is the floor's memory store: a map under a mutex.
type floorMap struct {
	mu sync.RWMutex
	m  map[string]floorSession
}

func (f *floorMap) put(_ context.Context, token string, s floorSession, _ time.Duration) error {
	f.mu.Lock()
	f.m[token] = s
	f.mu.Unlock()
	return nil
}

func (f *floorMap) get(_ context.Context, token string) (floorSession, bool, error) {
	f.mu.RLock()
	s, ok := f.m[token]
	f.mu.RUnlock()
	return s, ok, nil
}

// floorRedis is the floor's Redis store, as written by hand with go-redis:
// one SET with an expiry per login, one GET per request, the session as
// JSON under the token.
type floorRedis struct {
	rdb    *redis.Client
	prefix string
}

func (f floorRedis) put(ctx context.Context, token string, s floorSession, ttl time.Duration) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return f.rdb.Set(ctx, f.prefix+token, v, ttl).Err()
}

func (f floorRedis) get(ctx context.Context, token string) (floorSession, bool, error) {
	v, err := f.rdb.Get(ctx, f.prefix+token).Bytes()
	if errors.Is(err, redis.Nil) {
		return floorSession{}, false, nil
	}
	if err != nil {
		return floorSession{}, false, err
	}
	var s floorSession
	err = json.Unmarshal(v, &s)
	return s, err == nil, err
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
	sess := floorSession{OpenID: out.OpenID, SessionKey: out.SessionKey, Expires: time.Now().Add(s.ttl)}
	if err := s.sessions.put(r.Context(), token, sess, s.ttl); err != nil {
		http.Error(w, `{"error":"store"}`, http.StatusServiceUnavailable)
		return
	}
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
	if !ok {
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	sess, found, err := s.sessions.get(r.Context(), token)
	if err != nil {
		http.Error(w, `{"error":"store"}`, http.StatusServiceUnavailable)
		return
	}
	if !found || time.Now().After(sess.Expires) {
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	_, _ = io.WriteString(w, sess.OpenID)
}
