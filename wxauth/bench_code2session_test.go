package wxauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/wxauth"
)

// c2sReply is the reply the loopback server of BenchmarkCode2Session sends
// for every code: a jscode2session success, as text/plain like WeChat's.
const c2sReply = `{"session_key":"` + testKey + `","openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","unionid":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}`

// c2sServer is the loopback WeChat both sides of BenchmarkCode2Session call.
func c2sServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("js_code") == "" {
			http.Error(w, "no code", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, c2sReply)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// floorReply is what the floor decodes: the fields Code2Session reads.
type floorReply struct {
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
}

// floorCode2Session is the floor Code2Session is measured against: the same
// exchange written plainly with net/http and encoding/json (build the URL
// with its query, GET, read the body under the same 1 MiB limit, unmarshal
// it into a struct, check errcode and openid), with no retry, redaction or
// validation of the reply.
func floorCode2Session(ctx context.Context, hc *http.Client, base, appID, secret, code string) (*floorReply, error) {
	q := url.Values{
		"appid":      {appID},
		"secret":     {secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var r floorReply
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.ErrCode != 0 || r.OpenID == "" {
		return nil, io.ErrUnexpectedEOF
	}
	return &r, nil
}

// BenchmarkCode2Session measures App.Code2Session with its default client
// ("App") against floorCode2Session ("floor"), both calling the same loopback
// server in the same run, one call at a time, interleaved ("ratio", the
// figure to read: the goal is ≤ 1.05), and from all CPUs
// ("Parallel").
func BenchmarkCode2Session(b *testing.B) {
	srv := c2sServer(b)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	floorClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.Cleanup(floorClient.CloseIdleConnections)
	ctx := context.Background()
	impls := []struct {
		name string
		call func() error
	}{
		{"App", func() error { _, err := app.Code2Session(ctx, testCode); return err }},
		{"floor", func() error {
			_, err := floorCode2Session(ctx, floorClient, srv.URL, testAppID, testSecret, testCode)
			return err
		}},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			if err := impl.call(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := impl.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ratio", func(b *testing.B) { testutil.CompareToFloor(b, 5, impls[0].call, impls[1].call) })
	for _, impl := range impls {
		b.Run(impl.name+"Parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := impl.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
