package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
)

// debugLogger returns a logger that writes everything to the buffer.
func debugLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// errorJSON decodes a refusal body and checks its shape.
func errorJSON(t *testing.T, rr *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	assert.Equal(t, "application/json; charset=utf-8", rr.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rr.Header().Get("Cache-Control"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &body), rr.Body.String())
	assert.Len(t, body, 2, "exactly error and message: %s", rr.Body.String())
	assert.NotEmpty(t, body["message"])
	return body["error"], body["message"]
}

// echoOpenID is a handler that answers with the openid of its request's record.
var echoOpenID = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	rec, ok := session.FromContext(r.Context())
	if !ok {
		http.Error(w, "no record", http.StatusTeapot)
		return
	}
	_, _ = w.Write([]byte(rec.OpenID))
})

func TestMiddleware(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := session.NewFakeClock()
	store := newSpyStore()
	log, logs := debugLogger()
	m := newManager(t, store, session.WithClock(clk.Now), session.WithTTL(time.Hour), session.WithLogger(log))
	good, err := m.Issue(ctx, testSession())
	require.NoError(t, err)
	clk.Advance(-2 * time.Hour)
	expired, err := m.Issue(ctx, testSession())
	require.NoError(t, err)
	clk.Advance(2 * time.Hour)
	h := m.Middleware(echoOpenID)

	tests := []struct {
		name       string
		header     string // Authorization
		storeDown  bool
		wantStatus int
		wantCode   string
	}{
		{"valid", "Bearer " + good, false, http.StatusOK, ""},
		{"scheme in any case", "bEaReR " + good, false, http.StatusOK, ""},
		{"no header", "", false, 401, session.CodeInvalidToken},
		{"wrong scheme", "Basic " + good, false, 401, session.CodeInvalidToken},
		{"scheme only", "Bearer", false, 401, session.CodeInvalidToken},
		{"token without scheme", good, false, 401, session.CodeInvalidToken},
		{"malformed", "Bearer abc", false, 401, session.CodeInvalidToken},
		{"unknown", "Bearer " + otherToken(good), false, 401, session.CodeInvalidToken},
		{"oversized", "Bearer " + string(bytes.Repeat([]byte("A"), 1<<16)), false, 401, session.CodeInvalidToken},
		{"expired", "Bearer " + expired, false, 401, session.CodeExpiredToken},
		{"store down", "Bearer " + good, true, 503, session.CodeStoreUnavailable},
		{"store down, no token", "", true, 401, session.CodeInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.storeDown {
				store.fail(errDown)
				defer store.fail(nil)
			}
			logs.Reset()
			r := httptest.NewRequest(http.MethodGet, "/me", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			rr := httptest.NewRecorder()
			h.ServeHTTP(rr, r)
			require.Equal(t, tt.wantStatus, rr.Code, rr.Body.String())
			if tt.wantCode == "" {
				assert.Equal(t, testSession().OpenID, rr.Body.String())
				return
			}
			code, _ := errorJSON(t, rr)
			assert.Equal(t, tt.wantCode, code)
			if tt.wantStatus == 401 {
				assert.Equal(t, `Bearer error="invalid_token"`, rr.Header().Get("WWW-Authenticate"))
			}
			if tt.wantStatus == http.StatusServiceUnavailable {
				assert.Contains(t, logs.String(), `"level":"ERROR"`, "a store outage is logged as an error")
				assert.Contains(t, logs.String(), "connection refused", "with its cause")
			}
			assert.NotContains(t, logs.String(), good, "the token is never logged")
			assert.NotContains(t, rr.Body.String(), good)
		})
	}
}

func TestMiddlewareTokenSources(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	header := newManager(t, nil, session.WithTokenHeader("x-auth-token"))
	cookie := newManager(t, nil, session.WithTokenHeader("X-Token"), session.WithTokenCookie("sid"))

	for name, tc := range map[string]struct {
		m        *session.Manager
		set      func(r *http.Request, token string)
		accepted bool
	}{
		"header":                   {header, func(r *http.Request, tok string) { r.Header.Set("X-Auth-Token", tok) }, true},
		"header, spaces trimmed":   {header, func(r *http.Request, tok string) { r.Header.Set("X-Auth-Token", " "+tok+" ") }, true},
		"header ignores bearer":    {header, func(r *http.Request, tok string) { r.Header.Set("Authorization", "Bearer "+tok) }, false},
		"cookie":                   {cookie, func(r *http.Request, tok string) { r.AddCookie(&http.Cookie{Name: "sid", Value: tok}) }, true},
		"cookie wins over header":  {cookie, func(r *http.Request, tok string) { r.Header.Set("X-Token", tok) }, false},
		"cookie of another name":   {cookie, func(r *http.Request, tok string) { r.AddCookie(&http.Cookie{Name: "other", Value: tok}) }, false},
		"cookie ignores bearer":    {cookie, func(r *http.Request, tok string) { r.Header.Set("Authorization", "Bearer "+tok) }, false},
		"header with bearer value": {header, func(r *http.Request, tok string) { r.Header.Set("X-Auth-Token", "Bearer "+tok) }, false},
	} {
		token, err := tc.m.Issue(ctx, testSession())
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		tc.set(r, token)
		rr := httptest.NewRecorder()
		tc.m.Middleware(echoOpenID).ServeHTTP(rr, r)
		if tc.accepted {
			assert.Equal(t, http.StatusOK, rr.Code, name)
			continue
		}
		assert.Equal(t, http.StatusUnauthorized, rr.Code, name)
		code, _ := errorJSON(t, rr)
		assert.Equal(t, session.CodeInvalidToken, code, name)
		assert.Empty(t, rr.Header().Get("WWW-Authenticate"), "no bearer challenge when the token is not a bearer token")
	}
}

func TestMiddlewareErrorHandler(t *testing.T) {
	t.Parallel()
	var got *session.HTTPError
	m := newManager(t, nil, session.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, e *session.HTTPError) {
		got = e
		w.WriteHeader(http.StatusFound)
	}))
	rr := httptest.NewRecorder()
	m.Middleware(echoOpenID).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusFound, rr.Code)
	require.NotNil(t, got)
	assert.Equal(t, http.StatusUnauthorized, got.Status)
	assert.Equal(t, session.CodeInvalidToken, got.Code)
	assert.ErrorIs(t, got, session.ErrInvalidToken, "the cause is there for the handler")
}

func TestMiddlewareMisconfigured(t *testing.T) {
	t.Parallel()
	bad := session.NewManager(nil, session.WithTTL(-1))
	good := newManager(t, nil)
	token, err := good.Issue(context.Background(), testSession())
	require.NoError(t, err)
	for name, h := range map[string]http.Handler{
		"bad option": bad.Middleware(echoOpenID),
		"nil next":   good.Middleware(nil),
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, r)
		assert.Equal(t, http.StatusInternalServerError, rr.Code, name)
		code, _ := errorJSON(t, rr)
		assert.Equal(t, session.CodeServerError, code, name)
	}
}

func TestFromContext(t *testing.T) {
	t.Parallel()
	_, ok := session.FromContext(context.Background())
	assert.False(t, ok)
	_, ok = session.FromContext(session.NewContext(context.Background(), nil))
	assert.False(t, ok, "a nil record is no record")
	rec := &session.Record{OpenID: "o"}
	got, ok := session.FromContext(session.NewContext(context.Background(), rec))
	assert.True(t, ok)
	assert.Same(t, rec, got)
}

func FuzzMiddlewareAuthorization(f *testing.F) {
	m := session.NewManager(nil)
	defer m.Close()
	token, err := m.Issue(context.Background(), testSession())
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer " + token)
	f.Add("bearer  " + token + " ")
	f.Add("Bearer")
	f.Add("")
	f.Add("Basic dXNlcjpwYXNz")
	h := m.Middleware(echoOpenID)
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{header}
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, r)
		switch rr.Code {
		case http.StatusOK:
			if rr.Body.String() != testSession().OpenID {
				t.Fatalf("accepted with body %q", rr.Body.String())
			}
		case http.StatusUnauthorized:
			var body struct{ Error string }
			if err := json.Unmarshal(rr.Body.Bytes(), &body); err != nil || body.Error != session.CodeInvalidToken {
				t.Fatalf("refusal body %q", rr.Body.String())
			}
		default:
			t.Fatalf("status %d", rr.Code)
		}
	})
}

func TestMisconfiguredManagerLogsThroughItsLogger(t *testing.T) {
	t.Parallel()
	log, logs := debugLogger()
	m := session.NewManager(nil, session.WithClock(nil), session.WithLogger(log))
	require.ErrorContains(t, m.Err(), "clock")
	rr := httptest.NewRecorder()
	m.Middleware(echoOpenID).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusInternalServerError, rr.Code)
	assert.Contains(t, logs.String(), `"level":"ERROR"`, "a logger given after the bad option is still used")
	assert.Contains(t, logs.String(), "clock must not be nil")
}

// otherToken returns a well-formed token that differs from tok in its first
// character (always: a fixed replacement would equal tok one time in 64).
func otherToken(tok string) string {
	if tok[0] == 'A' {
		return "B" + tok[1:]
	}
	return "A" + tok[1:]
}
