package session_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// BenchmarkLoginLoad runs the README's login server (LoginHandler at POST
// /api/login, Manager.Middleware around GET /api/me, the memory store, an
// App with its default client) over loopback HTTP against the fake WeChat,
// with a fixed pool of concurrent clients. Each op is one user's login: a
// wx.login code from the fake, the POST (with the signed and encrypted
// profile in "profile"), then one GET /api/me with the token. It reports
// logins/s and the p50/p99 latency of the login POST and of the GET, so the
// next change to the login path is measured:
//
//	go test -run '^$' -bench LoginLoad -count 6 ./session/
//
// The floor runs first in the same run: floor/clients=N is a login server
// written by hand with net/http alone (bench_floor_test.go), and the code
// logins of the README's wiring, on the memory store (code/clients=N) and on
// the Redis store (redis/clients=N, which needs REDIS_ADDR), report
// "x-floor": their logins/s over the floor's of the same run and clients.
func BenchmarkLoginLoad(b *testing.B) {
	floor := make(map[int]float64) // the floor's logins/s by clients, of its last (longest) run
	for _, clients := range []int{1, 50} {
		b.Run(fmt.Sprintf("floor/clients=%d", clients), func(b *testing.B) {
			floor[clients] = benchFloorLoad(b, clients)
		})
	}
	for _, body := range []string{"code", "profile", "redis"} {
		for _, clients := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/clients=%d", body, clients), func(b *testing.B) {
				var store session.Store // nil: the memory store
				if body == "redis" {
					c := redistest.Client(b)
					s, err := redisstore.New(c, redisstore.WithKeyPrefix(redistest.Prefix(b, c)))
					if err != nil {
						b.Fatal(err)
					}
					store = s
				}
				rate := benchLoginLoad(b, clients, body == "profile", store)
				if f := floor[clients]; f > 0 && body != "profile" && rate > 0 {
					b.ReportMetric(rate/f, "x-floor")
				}
			})
		}
	}
}

// benchLoginLoad runs the README's wiring on store and returns its logins/s.
func benchLoginLoad(b *testing.B, clients int, profile bool, store session.Store) float64 {
	wx := wxauthtest.NewServer(testAppID, testSecret, wxauthtest.WithRateLimit(1<<30))
	b.Cleanup(wx.Close)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(wx.URL))
	if err != nil {
		b.Fatal(err)
	}
	sessions := session.NewManager(store)
	b.Cleanup(func() { _ = sessions.Close() })
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", session.LoginHandler(app, sessions))
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		_, _ = w.Write([]byte(rec.OpenID))
	})))
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return runLoginLoad(b, wx, srv.URL, clients, profile)
}

// runLoginLoad logs users in at the login server at url (POST /api/login,
// GET /api/me) from clients concurrent clients, b.N logins in all, reports
// logins/s and latencies, and returns the logins/s (0 when b failed).
func runLoginLoad(b *testing.B, wx *wxauthtest.Server, url string, clients int, profile bool) float64 {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = clients
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var next atomic.Int64
	loginLat := make([][]time.Duration, clients)
	meLat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		openID := fmt.Sprintf("oBenchLoad%018d", c) // one user a client: no two logins of one user at once
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				body, err := loadLoginBody(wx, openID, profile)
				if err != nil {
					b.Error(err)
					return
				}
				t0 := time.Now()
				tok, err := loadPost(hc, url+"/api/login", body)
				t1 := time.Now()
				if err != nil {
					b.Error(err)
					return
				}
				if err := loadGetMe(hc, url+"/api/me", tok, openID); err != nil {
					b.Error(err)
					return
				}
				loginLat[c] = append(loginLat[c], t1.Sub(t0))
				meLat[c] = append(meLat[c], time.Since(t1))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if b.Failed() {
		return 0
	}
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "logins/s")
	login, me := slices.Concat(loginLat...), slices.Concat(meLat...)
	b.ReportMetric(quantileMS(login, 0.50), "login-p50-ms")
	b.ReportMetric(quantileMS(login, 0.99), "login-p99-ms")
	b.ReportMetric(quantileMS(me, 0.99), "me-p99-ms")
	return rate
}

// loadLoginBody returns the JSON a mini-program posts after wx.login: the code,
// and with profile the signed rawData and the encrypted profile.
func loadLoginBody(wx *wxauthtest.Server, openID string, profile bool) (string, error) {
	code := wx.Login(openID)
	if !profile {
		return `{"code":"` + code + `"}`, nil
	}
	p, err := wx.Profile(openID)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]string{"code": code, "rawData": p.RawData, "signature": p.Signature,
		"encryptedData": p.EncryptedData, "iv": p.IV})
	return string(b), err
}

// loadPost posts a login and returns the token of its 200 answer.
func loadPost(hc *http.Client, url, body string) (string, error) {
	resp, err := hc.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
		return "", fmt.Errorf("login: status %d, %v", resp.StatusCode, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return out.Token, nil
}

// loadGetMe calls the authenticated endpoint with tok and checks it answers
// the user's openid.
func loadGetMe(hc *http.Client, url, tok, openID string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(got) != openID {
		return fmt.Errorf("me: status %d, %q, %v", resp.StatusCode, got, err)
	}
	return nil
}

// quantileMS returns the q-quantile of ds in milliseconds.
func quantileMS(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q * float64(len(ds)-1))
	return float64(ds[i]) / float64(time.Millisecond)
}
