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

	"github.com/redis/go-redis/v9"
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
// floor-memory/clients=N is a login server written by hand with net/http
// alone (bench_floor_test.go), floor-redis/clients=N the same with its
// sessions in Redis by go-redis; "redis" is the README's wiring on the
// Redis store, and redis-sameuser the same with each client logging one
// user in again and again (every login past the bound on sessions per user
// evicts one). The Redis ones need REDIS_ADDR. BenchmarkLoginFloorRatio
// compares the wiring with the floor.
func BenchmarkLoginLoad(b *testing.B) {
	for _, name := range []string{"floor-memory", "floor-redis", "code", "profile", "redis", "redis-sameuser"} {
		for _, clients := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/clients=%d", name, clients), func(b *testing.B) {
				load := loadConfig{clients: clients, profile: name == "profile", sameUser: name == "redis-sameuser"}
				var t *loadTarget
				switch name {
				case "floor-memory":
					t = floorTarget(b, nil)
				case "floor-redis":
					t = floorTarget(b, redistest.Client(b))
				case "redis", "redis-sameuser":
					t = readmeTarget(b, redistest.Client(b))
				default:
					t = readmeTarget(b, nil)
				}
				t.run(b, load)
			})
		}
	}
}

// BenchmarkLoginFloorRatio measures the README's wiring against the floor
// (bench_floor_test.go) on the memory store and on Redis, by the same
// load: 50 clients, each login a different user's. The two servers take
// turns, a round of 400 logins each, the order alternating, and it reports
// the median over pairs of pairs of the wiring's logins/s over the floor's
// ("x-floor"): drift in the machine's load hits both alike.
//
//	go test -run '^$' -bench LoginFloorRatio -benchtime 20x -count 3 ./session/
func BenchmarkLoginFloorRatio(b *testing.B) {
	const round = 400
	for _, store := range []string{"memory", "redis", "redis-recommended"} {
		b.Run(store+"/clients=50", func(b *testing.B) {
			var floor, wiring *loadTarget
			switch store {
			case "memory":
				floor, wiring = floorTarget(b, nil), readmeTarget(b, nil)
			case "redis":
				floor, wiring = floorTarget(b, redistest.Client(b)), readmeTarget(b, redistest.Client(b))
			default:
				// The go-redis options package redisstore recommends: the
				// store honours its context, and the Manager calls it inline.
				floor, wiring = floorTarget(b, redistest.Client(b)), readmeTarget(b, recommendedClient(b))
			}
			load := loadConfig{clients: 50}
			for _, t := range []*loadTarget{floor, wiring} { // warm both up: connections, pools, caches
				if _, err := t.round(load, round, nil); err != nil {
					b.Fatal(err)
				}
			}
			var ratios []float64
			var tf, tw time.Duration
			n := 0
			for b.Loop() {
				order := []*loadTarget{floor, wiring}
				if n%2 == 1 {
					order[0], order[1] = wiring, floor
				}
				for _, t := range order {
					d, err := t.round(load, round, nil)
					if err != nil {
						b.Fatal(err)
					}
					if t == floor {
						tf += d
					} else {
						tw += d
					}
				}
				n++
				if n%2 == 0 {
					ratios = append(ratios, float64(tf)/float64(tw)) // logins/s of the wiring over the floor's
					tf, tw = 0, 0
				}
			}
			if len(ratios) == 0 {
				ratios = append(ratios, float64(tf)/float64(tw))
			}
			slices.Sort(ratios)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ratios[len(ratios)/2], "x-floor")
		})
	}
}

// loadConfig is the load a loadTarget is put under.
type loadConfig struct {
	clients int  // how many clients log users in at once
	profile bool // whether each login posts the signed and encrypted profile
	// sameUser makes each client log one user in again and again; without
	// it each login is a different user's, as a login server's traffic is
	// (many users, each logging in now and then). The same user's logins
	// pass the store's bound on sessions per user, and each then costs an
	// eviction.
	sameUser bool
}

// loadTarget is a login server under load (POST /api/login, GET /api/me)
// and the fake WeChat its users log in with.
type loadTarget struct {
	wx   *wxauthtest.Server
	url  string
	hc   *http.Client
	next atomic.Int64 // the number of the last user logged in
}

// newLoadTarget starts handler (serving /api/login and /api/me, calling
// the fake WeChat at wx) and a client of it.
func newLoadTarget(b *testing.B, wx *wxauthtest.Server, handler http.Handler) *loadTarget {
	srv := httptest.NewServer(handler)
	b.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 100
	b.Cleanup(tr.CloseIdleConnections)
	return &loadTarget{wx: wx, url: srv.URL, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// readmeTarget starts the README's wiring, on the memory store (c nil) or
// on Redis through c.
func readmeTarget(b *testing.B, c *redis.Client) *loadTarget {
	var store session.Store // nil: the memory store
	if c != nil {
		s, err := redisstore.New(c, redisstore.WithKeyPrefix(redistest.Prefix(b, c)))
		if err != nil {
			b.Fatal(err)
		}
		store = s
	}
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
	return newLoadTarget(b, wx, mux)
}

// recommendedClient returns a client of the test Redis with the options
// package redisstore recommends.
func recommendedClient(b *testing.B) *redis.Client {
	opt := redistest.Client(b).Options()
	c := redis.NewClient(&redis.Options{Addr: opt.Addr, DialTimeout: 500 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
		PoolTimeout: 500 * time.Millisecond, MaxRetries: 1, ContextTimeoutEnabled: true})
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// latencies collects the latencies of each client's requests.
type latencies struct{ login, me [][]time.Duration }

// round logs n users in from load.clients concurrent clients (each login:
// a code from the fake, the POST, one GET /api/me with the token) and
// returns how long it took. With lat, each client's latencies are added to
// it.
func (t *loadTarget) round(load loadConfig, n int64, lat *latencies) (time.Duration, error) {
	first := t.next.Load()
	var left atomic.Int64
	left.Store(n)
	errs := make(chan error, load.clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range load.clients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				id := t.next.Add(1) // a user of its own
				if load.sameUser {
					id = int64(c) // one user a client: no two logins of one user at once
				}
				openID := fmt.Sprintf("oBenchLoad%018d", id)
				body, err := loadLoginBody(t.wx, openID, load.profile)
				if err != nil {
					errs <- err
					return
				}
				t0 := time.Now()
				tok, err := loadPost(t.hc, t.url+"/api/login", body)
				t1 := time.Now()
				if err == nil {
					err = loadGetMe(t.hc, t.url+"/api/me", tok, openID)
				}
				if err != nil {
					errs <- err
					return
				}
				if lat != nil {
					lat.login[c] = append(lat.login[c], t1.Sub(t0))
					lat.me[c] = append(lat.me[c], time.Since(t1))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if load.sameUser {
		t.next.Store(first)
	}
	select {
	case err := <-errs:
		return 0, err
	default:
		return elapsed, nil
	}
}

// run puts t under load for b.N logins and reports logins/s and latencies.
func (t *loadTarget) run(b *testing.B, load loadConfig) {
	lat := &latencies{login: make([][]time.Duration, load.clients), me: make([][]time.Duration, load.clients)}
	b.ReportAllocs()
	b.ResetTimer()
	elapsed, err := t.round(load, int64(b.N), lat)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
	login, me := slices.Concat(lat.login...), slices.Concat(lat.me...)
	b.ReportMetric(quantileMS(login, 0.50), "login-p50-ms")
	b.ReportMetric(quantileMS(login, 0.99), "login-p99-ms")
	b.ReportMetric(quantileMS(me, 0.99), "me-p99-ms")
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
