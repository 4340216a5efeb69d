package douyinauthtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

// FuzzEndpoints posts arbitrary bodies to every endpoint: the fake answers
// each with HTTP 200 JSON (or 413 past its limit), never a panic or a
// hang, and stays up.
func FuzzEndpoints(f *testing.F) {
	for _, s := range []string{
		`{"appid":"tt1","secret":"s","code":"c"}`, `{"client_key":"tt1","client_secret":"s","grant_type":"client_credential"}`,
		`{"code":"x"}`, `{"code":null}`, `[]`, `{`, ``, `{"appid":1}`,
	} {
		f.Add(s)
	}
	srv := douyinauthtest.NewServer("tt1", "s")
	f.Cleanup(srv.Close)
	paths := []string{douyinauthtest.PathCode2Session, douyinauthtest.PathClientToken,
		douyinauthtest.PathStableClientToken, douyinauthtest.PathPhoneNumber}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			req, err := http.NewRequest(http.MethodPost, srv.URL+p, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("access-token", "clt.x")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", p, resp.StatusCode)
			}
		}
	})
}
