package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// benchTokens issues n tokens on m.
func benchTokens(b *testing.B, m *session.Manager, n int) []string {
	b.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		t, err := m.Issue(context.Background(), &wxauth.Session{OpenID: fmt.Sprint("o", i), SessionKey: testKey})
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = t
	}
	return tokens
}

// BenchmarkValidate checks tokens against the memory store, from one
// goroutine ("serial") and from GOMAXPROCS goroutines ("parallel").
func BenchmarkValidate(b *testing.B) {
	ctx := context.Background()
	m := session.NewManager(nil)
	defer m.Close()
	tokens := benchTokens(b, m, 1024)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := m.Validate(ctx, tokens[i%len(tokens)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := m.Validate(ctx, tokens[i%len(tokens)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkBaseline is the least any Validate must do, for comparison: hash
// and hex the token ("sha256"), and that plus a lookup and copy in a map
// behind one RWMutex ("rwmutex-map", serial and parallel).
func BenchmarkBaseline(b *testing.B) {
	m := session.NewManager(nil)
	defer m.Close()
	tokens := benchTokens(b, m, 1024)
	var mu sync.RWMutex
	recs := make(map[string]session.Record, len(tokens))
	for _, t := range tokens {
		recs[hashHex(t)] = session.Record{OpenID: "o", SessionKey: testKey}
	}
	lookup := func(token string) *session.Record {
		k := hashHex(token)
		mu.RLock()
		rec := recs[k]
		mu.RUnlock()
		return &rec
	}
	b.Run("sha256", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = hashHex(tokens[i%len(tokens)])
			i++
		}
	})
	b.Run("rwmutex-map/serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = lookup(tokens[i%len(tokens)])
			i++
		}
	})
	b.Run("rwmutex-map/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_ = lookup(tokens[i%len(tokens)])
				i++
			}
		})
	})
}

func hashHex(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	m := session.NewManager(nil, session.WithTTL(60*60*1e9))
	defer m.Close()
	s := testSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Issue(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginHandler is a whole login: the request body, code2session
// through wxauth over an httpmock transport, and a token from the memory
// store ("code"); with encryptedData to decrypt and check too ("userinfo").
func BenchmarkLoginHandler(b *testing.B) {
	sess := testSession()
	reply := fmt.Sprintf(`{"openid":%q,"session_key":%q,"unionid":%q}`, sess.OpenID, sess.SessionKey, sess.UnionID)
	app, _ := wechatMock(b, reply)
	m := session.NewManager(nil)
	defer m.Close()
	h := session.LoginHandler(app, m)
	bodies := map[string]string{
		"code": `{"code":"0a3Xyz"}`,
		"userinfo": loginBody(b, map[string]string{"code": "0a3Xyz", "iv": testIV,
			"encryptedData": encrypt(b, testKey, userInfoJSON(sess.OpenID, sess.UnionID, testAppID))}),
	}
	for _, name := range []string{"code", "userinfo"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rr := httptest.NewRecorder()
				h.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(bodies[name])))
				if rr.Code != http.StatusOK {
					b.Fatal(rr.Code, rr.Body.String())
				}
			}
		})
	}
}
