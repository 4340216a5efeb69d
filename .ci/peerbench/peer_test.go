// Package peerbench measures miniauth's Code2Session beside the other Go
// WeChat SDKs' (silenceper/wechat v2, medivhzhan/weapp v3) and the net/http
// floor, in one run, by the same harness: each calls the same loopback
// WeChat, over TLS, through a transport of the same settings that dials it
// whatever the host (so that every SDK calls its own built-in address,
// https://api.weixin.qq.com, unchanged).
//
//	cd .ci/peerbench && go test -run '^$' -bench . -benchtime 4000x -count 5
//
// "ratio" interleaves each SDK with the floor, batch by batch in both
// orders, and reports the median of its time over the floor's: the figure
// to read on a shared machine. With PEERBENCH_CANCEL=1 every call gets a
// cancelable context, as a handler passes its request's; by default it is
// context.Background(). It is a module of its own so that neither the core
// nor its users download the other SDKs; CI only builds and vets it.
package peerbench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/medivhzhan/weapp/v3"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/miniprogram"
	mpconfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/util"
	"github.com/wxmp/miniauth/wxauth"
)

const (
	appID  = "wx4f4bc4dec97d474b"
	secret = "0123456789abcdef0123456789abcdef"
	code   = "0a3f8a000RtXVU1Sxl100m0s7F1f8a0q"
	reply  = `{"session_key":"tiihtNczf5v6AKRyjwEUhQ==","openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","unionid":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}`
	host   = "https://api.weixin.qq.com"
)

// server starts the loopback WeChat: a jscode2session success for every
// code, as text/plain like WeChat's.
func server(b *testing.B) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sns/jscode2session" || r.URL.Query().Get("js_code") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, reply)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// client returns an *http.Client of its own whose transport (a clone of
// http.DefaultTransport with a pool of 100 idle connections, as
// miniauth's default) dials srv for every host and trusts its certificate.
func client(b *testing.B, srv *httptest.Server) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	addr := srv.Listener.Addr().String()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 100, 100
	t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: "example.com"}
	hc := &http.Client{Transport: t}
	b.Cleanup(hc.CloseIdleConnections)
	return hc
}

// floorReply is what the floor decodes: the fields Code2Session reads.
type floorReply struct {
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
}

// floor is the exchange written plainly with net/http and encoding/json,
// with no retry, redaction or validation of the reply.
func floor(ctx context.Context, hc *http.Client) error {
	q := url.Values{"appid": {appID}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var r floorReply
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	if r.ErrCode != 0 || r.OpenID == "" {
		return errors.New("floor: failed")
	}
	return nil
}

// impls returns the calls measured, the floor last.
func impls(b *testing.B) []impl {
	srv := server(b)
	ctx := context.Background()
	if os.Getenv("PEERBENCH_CANCEL") != "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		b.Cleanup(cancel)
	}

	app, err := wxauth.New(appID, secret, wxauth.WithHTTPClient(client(b, srv)))
	if err != nil {
		b.Fatal(err)
	}
	// silenceper/wechat sends every request through one package-level
	// client.
	util.DefaultHTTPClient = client(b, srv)
	sp := miniprogram.NewMiniProgram(&mpconfig.Config{AppID: appID, AppSecret: secret, Cache: cache.NewMemory()}).GetAuth()
	wa := weapp.NewClient(appID, secret, weapp.WithHttpClient(client(b, srv)))
	fc := client(b, srv)
	return []impl{
		{"miniauth", func() error { _, err := app.Code2Session(ctx, code); return err }},
		{"silenceper", func() error {
			r, err := sp.Code2SessionContext(ctx, code)
			if err == nil && r.OpenID == "" {
				err = errors.New("silenceper: no openid")
			}
			return err
		}},
		{"weapp", func() error {
			r, err := wa.Login(code)
			if err == nil && (r.GetResponseError() != nil || r.OpenID == "") {
				err = errors.New("weapp: no openid")
			}
			return err
		}},
		{"floor", func() error { return floor(ctx, fc) }},
	}
}

type impl struct {
	name string
	call func() error
}

// BenchmarkCode2Session reports each call's time and allocs/op, then each
// SDK's interleaved ratio to the floor.
func BenchmarkCode2Session(b *testing.B) {
	all := impls(b)
	for _, im := range all {
		if err := im.call(); err != nil {
			b.Fatalf("%s: %v", im.name, err)
		}
	}
	for _, im := range all {
		b.Run(im.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := im.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	fl := all[len(all)-1]
	for _, im := range all[:len(all)-1] {
		b.Run("ratio/"+im.name, func(b *testing.B) { compare(b, 5, im.call, fl.call) })
	}
}

// compare runs impl and floor in batches, alternating which goes first,
// and reports the median over pairs of pairs of impl's time over floor's:
// internal/testutil.CompareToFloor, which a module of its own cannot import.
func compare(b *testing.B, batch int, impl, floor func() error) {
	run := func(f func() error) time.Duration {
		start := time.Now()
		for range batch {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	var ratios []float64
	var pi, pf time.Duration
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			pi += run(impl)
			pf += run(floor)
		} else {
			pf += run(floor)
			pi += run(impl)
		}
		n++
		if n%2 == 0 {
			ratios = append(ratios, float64(pi)/float64(pf))
			pi, pf = 0, 0
		}
	}
	if len(ratios) == 0 {
		return
	}
	slices.Sort(ratios)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ratios[len(ratios)/2], "impl/floor")
}
