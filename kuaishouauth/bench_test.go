package kuaishouauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/kuaishouauth"
)

const benchReply = `{"result":1,"session_key":"tiihtNczf5v6AKRyjwEUhQ==","open_id":"f19a0c3e5b7d9f1a2c4e6a8b0d2f4a6c"}`

// floorCode2Session is the least a hand-written client does: one POST of
// the form with net/http, the reply decoded with encoding/json.
func floorCode2Session(ctx context.Context, hc *http.Client, base string) error {
	form := url.Values{"app_id": {testAppID}, "app_secret": {testSecret}, "js_code": {"CODE_0123456789"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth2/mp/code2session", nil)
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Result     int    `json:"result"`
		SessionKey string `json:"session_key"`
		OpenID     string `json:"open_id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
		return err
	}
	if r.Result != 1 || r.OpenID == "" {
		return errors.New("refused")
	}
	return nil
}

// BenchmarkCode2Session measures Code2Session on the shared engine
// ("App") against floorCode2Session ("floor") on the same loopback server,
// interleaved in one run ("ratio", the figure to read).
func BenchmarkCode2Session(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, _ = io.WriteString(w, benchReply)
	}))
	b.Cleanup(srv.Close)
	app, err := kuaishouauth.New(testAppID, testSecret, kuaishouauth.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	floorClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.Cleanup(floorClient.CloseIdleConnections)
	ctx := context.Background()
	impl := func() error { _, err := app.Code2Session(ctx, "CODE_0123456789"); return err }
	floor := func() error { return floorCode2Session(ctx, floorClient, srv.URL) }
	for name, call := range map[string]func() error{"App": impl, "floor": floor} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ratio", func(b *testing.B) { testutil.CompareToFloor(b, 5, impl, floor) })
}
