package engine_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// codedError is apiError with the platform's code for an observer.
type codedError struct{ apiError }

func (e *codedError) ErrCode() string { return strconv.Itoa(e.Code) }

// codedReply is the test dialect whose errors carry their code.
type codedReply struct{ baseReply }

func (r *codedReply) Err(op string, s engine.Scrubber) (bool, error) {
	return r.Code == 7, &codedError{apiError{Op: op, Code: r.Code, Msg: s.Scrub(r.Msg)}}
}

// recorded is what a test observer saw.
type recorded struct {
	mu       sync.Mutex
	calls    []miniauth.Call
	requests []miniauth.HTTPRequest
	refresh  []miniauth.TokenRefresh
	ctxOK    bool
}

type ctxKey struct{}

func (r *recorded) observer() *miniauth.Observer {
	return &miniauth.Observer{
		CallStart: func(ctx context.Context, c *miniauth.Call) context.Context {
			return context.WithValue(ctx, ctxKey{}, c.API)
		},
		CallEnd: func(ctx context.Context, c *miniauth.Call) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.ctxOK = ctx.Value(ctxKey{}) == c.API
			r.calls = append(r.calls, *c)
		},
		HTTPRequest: func(ctx context.Context, q *miniauth.HTTPRequest) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.requests = append(r.requests, *q)
		},
		TokenRefresh: func(ctx context.Context, t *miniauth.TokenRefresh) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.refresh = append(r.refresh, *t)
		},
	}
}

func TestObserverCall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replies  []reply
		attempts int
		status   int
		code     string
		statuses []int
	}{
		{"success", []reply{{200, `{"code":0,"openid":"o1"}`, 0}}, 1, 200, "", []int{200}},
		{"retried", []reply{{503, ``, 0}, {200, `{"code":7,"msg":"busy"}`, 0}, {200, `{"code":0,"openid":"o1"}`, 0}}, 3, 200, "", []int{503, 200, 200}},
		{"refused", []reply{{200, `{"code":40029,"msg":"invalid code"}`, 0}}, 1, 200, "40029", []int{200}},
		{"status", []reply{{404, `nope`, 0}}, 1, 404, "", []int{404}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.replies...)
			rec := &recorded{}
			c, _ := newClient(t, engine.Config{Package: "testauth", Upstream: "wechat", Retries: 2, Observer: rec.observer()})
			var out codedReply
			err := c.Do(context.Background(), engine.Request{Op: "code2session", Method: http.MethodGet,
				Base: srv.URL, Path: "/sns/jscode2session", Query: map[string]string{"js_code": testCode}, Secrets: []string{testCode}}, &out)
			require.Len(t, rec.calls, 1)
			call := rec.calls[0]
			assert.True(t, rec.ctxOK, "CallEnd gets CallStart's context")
			assert.Equal(t, miniauth.WeChat, call.Platform, "Upstream names a known platform")
			assert.Equal(t, "code2session", call.API)
			assert.Equal(t, http.MethodGet, call.Method)
			assert.Equal(t, srv.URL, call.Server)
			assert.Equal(t, tc.attempts, call.Attempts)
			assert.Equal(t, tc.status, call.Status)
			assert.Equal(t, tc.code, call.Code)
			assert.Equal(t, err, call.Err)
			assert.WithinDuration(t, time.Now(), call.Start, time.Minute)
			require.Len(t, rec.requests, len(tc.statuses))
			for i, q := range rec.requests {
				assert.Equal(t, i+1, q.Attempt)
				assert.Equal(t, tc.statuses[i], q.Status)
				assert.Positive(t, q.Duration)
			}
		})
	}
}

func TestObserverNoReply(t *testing.T) {
	srv := newServer(t, reply{200, `{}`, 0})
	srv.Close() // nothing listens
	rec := &recorded{}
	c, _ := newClient(t, engine.Config{Observer: rec.observer()})
	err := c.Do(context.Background(), engine.Request{Op: "x", Method: http.MethodGet, Base: srv.URL, Path: "/x"}, &codedReply{})
	require.Error(t, err)
	require.Len(t, rec.calls, 1)
	assert.Equal(t, miniauth.Platform(""), rec.calls[0].Platform, "testplatform is no known platform")
	assert.Zero(t, rec.calls[0].Status)
	assert.Empty(t, rec.calls[0].Code)
	require.Len(t, rec.requests, 1)
	assert.Zero(t, rec.requests[0].Status)
	assert.Equal(t, err, rec.requests[0].Err)
}

func TestObserverPartial(t *testing.T) {
	// An observer with only CallEnd: no CallStart, no HTTPRequest.
	srv := newServer(t, reply{200, `{"code":0}`, 0})
	var ends int
	c, _ := newClient(t, engine.Config{Observer: &miniauth.Observer{CallEnd: func(context.Context, *miniauth.Call) { ends++ }}})
	require.NoError(t, c.Do(context.Background(), engine.Request{Op: "x", Method: http.MethodGet, Base: srv.URL, Path: "/x"}, &codedReply{}))
	assert.Equal(t, 1, ends)
}

func TestObserverTokenRefresh(t *testing.T) {
	rec := &recorded{}
	c, _ := newClient(t, engine.Config{Observer: rec.observer()})
	fail := errors.New("token endpoint down")
	var fetches int
	src := engine.TokenSourceFunc(func(ctx context.Context) (*miniauth.Token, error) {
		fetches++
		if fetches == 1 {
			return nil, fail
		}
		return &miniauth.Token{AccessToken: "T1", ExpiresAt: time.Now().Add(time.Hour)}, nil
	})
	cache, err := c.NewTokenCache(engine.TokenConfig{Key: "app", Source: src})
	require.NoError(t, err)
	_, err = cache.Get(context.Background())
	require.ErrorIs(t, err, fail)
	tok, err := cache.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "T1", tok)
	require.Len(t, rec.refresh, 2)
	assert.ErrorIs(t, rec.refresh[0].Err, fail)
	assert.True(t, rec.refresh[0].Fetched)
	assert.NoError(t, rec.refresh[1].Err)
	assert.True(t, rec.refresh[1].Fetched)
	// A second cache on the same store takes the token from it.
	store := miniauth.NewMemoryTokenStore()
	rec2 := &recorded{}
	c2, _ := newClient(t, engine.Config{Observer: rec2.observer()})
	for i := range 2 {
		cache, err := c2.NewTokenCache(engine.TokenConfig{Key: "app", Source: src, Store: store})
		require.NoError(t, err)
		_, err = cache.Get(context.Background())
		require.NoError(t, err)
		require.Len(t, rec2.refresh, i+1)
		assert.Equal(t, i == 0, rec2.refresh[i].Fetched)
	}
}
