package fakeplat_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/fakeplat"
)

func TestCodes(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cs := fakeplat.NewCodes(time.Minute, clock)
	a := cs.Issue("alice", 32)
	assert.Len(t, a, 32)
	s, st := cs.Peek(a)
	assert.Equal(t, "alice", s)
	assert.Equal(t, fakeplat.CodeOK, st)
	s, st = cs.Take(a)
	assert.Equal(t, "alice", s)
	assert.Equal(t, fakeplat.CodeOK, st)
	_, st = cs.Take(a)
	assert.Equal(t, fakeplat.CodeUsed, st)
	_, st = cs.Take("never")
	assert.Equal(t, fakeplat.CodeUnknown, st)
	b := cs.Issue("bob", 32)
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	_, st = cs.Take(b)
	assert.Equal(t, fakeplat.CodeUnknown, st, "expired")
}

func TestCore(t *testing.T) {
	var got *fakeplat.Request
	c, err := fakeplat.Start(fakeplat.Config{Endpoints: map[string]fakeplat.Endpoint{
		"/a": {Method: http.MethodPost, Handle: func(r *fakeplat.Request) fakeplat.Reply {
			got = r
			return fakeplat.Reply{Body: map[string]int{"ok": 1}}
		}},
	}})
	require.NoError(t, err)
	defer c.Close()
	post := func(path, ct, body string) (int, string) {
		resp, err := http.Post(c.URL+path, ct, strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	st, body := post("/a", "application/x-www-form-urlencoded; charset=utf-8", "x=1&y=2")
	assert.Equal(t, http.StatusOK, st)
	assert.JSONEq(t, `{"ok":1}`, body)
	assert.Equal(t, "1", got.Form.Get("x"))
	_, _ = post("/a", "application/json", `{"x":1}`)
	assert.Empty(t, got.Form, "a JSON body is no form")
	assert.Equal(t, `{"x":1}`, string(got.Body))

	require.NoError(t, c.AddFault("/a", fakeplat.Reply{Status: http.StatusBadGateway}))
	require.NoError(t, c.AddFault("/a", fakeplat.Reply{Body: map[string]int{"err": 2}}))
	st, _ = post("/a", "text/plain", "")
	assert.Equal(t, http.StatusBadGateway, st)
	_, body = post("/a", "text/plain", "")
	assert.JSONEq(t, `{"err":2}`, body)
	assert.Error(t, c.AddFault("/nope", fakeplat.Reply{}))
	st, _ = post("/nope", "text/plain", "")
	assert.Equal(t, http.StatusNotFound, st)
	st, _ = post("/a", "text/plain", strings.Repeat("a", fakeplat.MaxBodyLen+1))
	assert.Equal(t, http.StatusRequestEntityTooLarge, st)
	assert.Equal(t, 5, c.Calls("/a"))
	c.Close()
	c.Close()
}
