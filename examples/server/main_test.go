package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// syncBuffer collects the server's output, written from several goroutines.
type syncBuffer = testutil.SyncBuffer

func noEnv(string) string { return "" }

// startServer runs the example in fake mode on a free port and returns its
// base URL, its output, and a function that shuts it down and returns run's
// error.
func startServer(t *testing.T) (string, *syncBuffer, func() error) {
	t.Helper()
	return startWith(t, []string{"-fake"}, noEnv)
}

// startWith runs the example with args (and -addr on a free port) and the
// environment getenv; as startServer.
func startWith(t *testing.T, args []string, getenv func(string) string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append(args, "-addr", "127.0.0.1:0"), getenv, out, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server did not start in 10s")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("server did not shut down in 10s")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + addr, out, stop
}

func do(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "body %q", b)
	return resp.StatusCode, m
}

func TestLoginThenMe(t *testing.T) {
	base, out, stop := startServer(t)

	status, m := do(t, http.MethodGet, base+"/dev/code", "", "")
	require.Equal(t, http.StatusOK, status)
	code, _ := m["code"].(string)
	require.NotEmpty(t, code)

	status, m = do(t, http.MethodPost, base+"/api/login", "", `{"code":"`+code+`"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	token, _ := m["token"].(string)
	require.NotEmpty(t, token)
	assert.Equal(t, fakeUser, m["openid"])
	assert.NotContains(t, m, "session_key")

	status, m = do(t, http.MethodGet, base+"/api/me", token, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, fakeUser, m["openid"])
	req, err := http.NewRequest(http.MethodGet, base+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := testClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "per-user answers are not cached")

	status, m = do(t, http.MethodPost, base+"/api/login", "", `{"code":"`+code+`"}`)
	assert.Equal(t, http.StatusUnauthorized, status, "a code works once: %v", m)

	status, m = do(t, http.MethodGet, base+"/api/me", "not-a-token", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "invalid_token", m["error"])

	require.NoError(t, stop(), "SIGINT/SIGTERM path: graceful shutdown returns nil")
	logs := out.String()
	assert.Contains(t, logs, "curl -s -X POST "+base+"/api/login")
	assert.Contains(t, logs, "path=/api/me status=200")
	assert.Contains(t, logs, "shutting down")
	assert.Contains(t, logs, "stopped")
	for _, secret := range []string{token, code, fakeSecret} {
		assert.NotContains(t, logs, secret)
	}
}

func TestListenerClosedAfterShutdown(t *testing.T) {
	base, _, stop := startServer(t)
	status, _ := do(t, http.MethodGet, base+"/dev/code", "", "")
	require.Equal(t, http.StatusOK, status)
	require.NoError(t, stop())
	_, err := testClient().Get(base + "/dev/code")
	require.Error(t, err, "the listener is closed after shutdown")
}

func TestConfigErrors(t *testing.T) {
	out := &syncBuffer{}
	env := func(k string) string {
		if k == "WX_APPID" {
			return "wx1234567890abcdef"
		}
		return ""
	}
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, env, out, nil)
	require.Error(t, err, "WX_APPID without WX_SECRET")
	assert.Contains(t, err.Error(), "WX_SECRET")

	err = run(context.Background(), []string{"-addr", "127.0.0.1:0"}, noEnv, out, nil)
	require.Error(t, err, "no credentials and no -fake: the fake, which logs anyone in, is never the default")
	assert.Contains(t, err.Error(), "-fake")

	err = run(context.Background(), []string{"-fake", "-addr", "127.0.0.1:0"}, env, out, nil)
	require.Error(t, err, "-fake with credentials is ambiguous")

	err = run(context.Background(), []string{"-bogus"}, noEnv, out, nil)
	require.Error(t, err)
}

// testClient returns a client of its own for each request, with a timeout,
// so that tests share no connection pool and a hang fails instead of stalling.
func testClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// TestRoutes serves the routes through httptest: the login API against the
// fake WeChat, and the answers to requests the API refuses.
func TestRoutes(t *testing.T) {
	t.Parallel()
	fake := wxauthtest.NewServer(fakeAppID, fakeSecret)
	t.Cleanup(fake.Close)
	app, err := wxauth.New(fakeAppID, fakeSecret, wxauth.WithBaseURL(fake.URL))
	require.NoError(t, err)
	sessions := session.NewManager(nil)
	t.Cleanup(func() { _ = sessions.Close() })
	logs := &syncBuffer{}
	srv := httptest.NewServer(logRequests(slog.New(slog.NewTextHandler(logs, nil)), routes(app, sessions, devApps{wechatDev(fake, fakeAppID, fakeUser)})))
	t.Cleanup(srv.Close)
	noFake := httptest.NewServer(routes(app, sessions, nil))
	t.Cleanup(noFake.Close)

	code := fake.Login(fakeUser)
	status, m := do(t, http.MethodPost, srv.URL+"/api/login", "", `{"code":"`+code+`"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	token := m["token"].(string)
	status, m = do(t, http.MethodGet, srv.URL+"/api/me", token, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, fakeUser, m["openid"])

	status, m = do(t, http.MethodGet, srv.URL+"/api/login", "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	assert.Equal(t, session.CodeMethodNotAllowed, m["error"])
	status, m = do(t, http.MethodPost, srv.URL+"/api/login", "", `{"code":"no-such-code"}`)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, session.CodeInvalidCode, m["error"])
	status, m = do(t, http.MethodGet, srv.URL+"/api/me", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, session.CodeInvalidToken, m["error"])

	resp, err := testClient().Get(noFake.URL + "/dev/code")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no fake codes when talking to WeChat")
	assert.NotContains(t, logs.String(), token)
	assert.NotContains(t, logs.String(), code)
}

// status sends a request and returns only its status.
func status(t *testing.T, method, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestPhoneAndLogout drives the flow of today through the routes: a silent
// login without a user, the phone bound through /api/phone (a new token),
// a one-shot login with a phone code, and logout.
func TestPhoneAndLogout(t *testing.T) {
	t.Parallel()
	fake := wxauthtest.NewServer(fakeAppID, fakeSecret)
	t.Cleanup(fake.Close)
	fake.AddUser(wxauthtest.User{OpenID: fakeUser, PurePhoneNumber: "13800000001"})
	second := fake.AddUser(wxauthtest.User{PurePhoneNumber: "13800000002"})
	app, err := wxauth.New(fakeAppID, fakeSecret, wxauth.WithBaseURL(fake.URL))
	require.NoError(t, err)
	sessions := session.NewManager(nil)
	t.Cleanup(func() { _ = sessions.Close() })
	srv := httptest.NewServer(routes(app, sessions, devApps{wechatDev(fake, fakeAppID, fakeUser)}))
	t.Cleanup(srv.Close)

	_, m := do(t, http.MethodGet, srv.URL+"/dev/code", "", "")
	code, _ := m["code"].(string)
	st, m := do(t, http.MethodPost, srv.URL+"/api/login", "", `{"code":"`+code+`"}`)
	require.Equal(t, http.StatusOK, st, "%v", m)
	assert.Equal(t, false, m["registered"])
	silent := m["token"].(string)
	_, m = do(t, http.MethodGet, srv.URL+"/api/me", silent, "")
	assert.Equal(t, "", m["userId"], "no user yet")

	_, m = do(t, http.MethodGet, srv.URL+"/dev/phonecode", "", "")
	phoneCode, _ := m["phoneCode"].(string)
	require.NotEmpty(t, phoneCode)
	st, m = do(t, http.MethodPost, srv.URL+"/api/phone", silent, `{"phoneCode":"`+phoneCode+`"}`)
	require.Equal(t, http.StatusOK, st, "%v", m)
	assert.Equal(t, true, m["registered"])
	assert.Equal(t, "u1", m["userId"])
	bound := m["token"].(string)
	assert.Equal(t, http.StatusUnauthorized, status(t, http.MethodGet, srv.URL+"/api/me", silent), "the old token is revoked")
	_, m = do(t, http.MethodGet, srv.URL+"/api/me", bound, "")
	assert.Equal(t, "u1", m["userId"])
	st, m = do(t, http.MethodPost, srv.URL+"/api/phone", bound, `{"phoneCode":"`+phoneCode+`"}`)
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, session.CodeInvalidPhoneCode, m["error"], "a phone code works once")

	// The next silent login finds the user by openid.
	st, m = do(t, http.MethodPost, srv.URL+"/api/login", "", `{"code":"`+fake.Login(fakeUser)+`"}`)
	require.Equal(t, http.StatusOK, st, "%v", m)
	assert.Equal(t, "u1", m["userId"])

	// Another user logs in and gives the phone in one request.
	pc, err := fake.PhoneCode(second)
	require.NoError(t, err)
	st, m = do(t, http.MethodPost, srv.URL+"/api/login", "", `{"code":"`+fake.Login(second)+`","phoneCode":"`+pc+`"}`)
	require.Equal(t, http.StatusOK, st, "%v", m)
	assert.Equal(t, "u2", m["userId"])
	oneShot := m["token"].(string)

	assert.Equal(t, http.StatusNoContent, status(t, http.MethodPost, srv.URL+"/api/logout", oneShot))
	assert.Equal(t, http.StatusUnauthorized, status(t, http.MethodGet, srv.URL+"/api/me", oneShot))
	assert.Equal(t, http.StatusOK, status(t, http.MethodGet, srv.URL+"/api/me", bound), "only that session ended")
	assert.Equal(t, http.StatusUnauthorized, status(t, http.MethodPost, srv.URL+"/api/logout", ""))
	assert.Equal(t, http.StatusMethodNotAllowed, status(t, http.MethodGet, srv.URL+"/api/phone", bound))

	// Logout everywhere: every session of u1 ends, u2's stay.
	st, m = do(t, http.MethodPost, srv.URL+"/api/login", "", `{"code":"`+fake.Login(fakeUser)+`"}`)
	require.Equal(t, http.StatusOK, st, "%v", m)
	again := m["token"].(string)
	st, m = do(t, http.MethodPost, srv.URL+"/api/login", "", `{"code":"`+fake.Login(second)+`"}`)
	require.Equal(t, http.StatusOK, st, "%v", m)
	other := m["token"].(string)
	assert.Equal(t, http.StatusNoContent, status(t, http.MethodPost, srv.URL+"/api/logout/all", again))
	assert.Equal(t, http.StatusUnauthorized, status(t, http.MethodGet, srv.URL+"/api/me", again))
	assert.Equal(t, http.StatusUnauthorized, status(t, http.MethodGet, srv.URL+"/api/me", bound), "every session of the user ended")
	assert.Equal(t, http.StatusOK, status(t, http.MethodGet, srv.URL+"/api/me", other), "another user's session stays")
}
