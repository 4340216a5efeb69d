// Package clienttest is the conformance suite of [miniauth.Client]: what
// every platform client of miniauth passes against its fake, and what a
// client of one's own (another platform, a wrapper, a central login service)
// can be held to in the same way, as package session/storetest holds
// session stores.
//
// [Run] checks, in parallel subtests:
//   - Login: a good code gives a [miniauth.Session] of the client's platform
//     and appid, with the user's openid, that never prints its session key.
//   - UsedCode: a code works once; the second exchange matches
//     [miniauth.ErrCodeUsed] or [miniauth.ErrInvalidCode].
//   - UnknownCode: a code the platform never issued matches
//     [miniauth.ErrInvalidCode].
//   - MalformedCode: an empty, over-long or unprintable code matches
//     [miniauth.ErrInvalidCode] and is never sent upstream.
//   - Secrets: no secret of the client (its app secret, keys) and no code
//     appears in an error's text or in the client printed with any fmt verb.
//   - Concurrent: many goroutines log distinct users in at once.
//   - Canceled: a cancelled context ends the call with an error matching
//     [context.Canceled], and a code not sent stays good.
//   - Apps: a client that is also a [miniauth.Apps] serves its own appid and
//     "" with itself, and refuses another appid with [miniauth.ErrUnknownApp].
package clienttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
)

// Env is one client under test with its fake platform.
type Env struct {
	// Client is the client under test, talking to the fake.
	Client miniauth.Client
	// Code returns a fresh login code of a user the fake knows, as the
	// platform's login call gives it, and the openid Code2Session must
	// return for it (Alipay's user_id or open_id, WeCom's userid). Each call
	// gives a new user. Required.
	Code func(t *testing.T) (code, openID string)
	// Calls returns how many code exchanges the fake has received, or nil
	// when the fake does not count them (the checks that nothing was sent
	// upstream are then skipped).
	Calls func() int
	// Secrets are strings that must never appear in an error or in the
	// client printed: the app secret, private keys, tokens.
	Secrets []string
}

// Run checks the clients that newEnv makes against the contract of
// [miniauth.Client], in parallel subtests of t. newEnv is called once per
// subtest and must return a client talking to a fake of its own (it may fail
// its t, and should register with t.Cleanup what closes the fake).
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Helper()
	if newEnv == nil {
		t.Fatal("clienttest: newEnv is nil")
	}
	for _, st := range []struct {
		name string
		test func(*testing.T, Env)
	}{
		{"Login", testLogin},
		{"UsedCode", testUsedCode},
		{"UnknownCode", testUnknownCode},
		{"MalformedCode", testMalformedCode},
		{"Secrets", testSecrets},
		{"Concurrent", testConcurrent},
		{"Canceled", testCanceled},
		{"Apps", testApps},
	} {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if e.Client == nil || e.Code == nil {
				t.Fatal("clienttest: newEnv returned an Env without Client or Code")
			}
			st.test(t, e)
		})
	}
}

func testLogin(t *testing.T, e Env) {
	code, openID := e.Code(t)
	s, err := e.Client.Code2Session(context.Background(), code)
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Equal(t, e.Client.Platform(), s.Platform, "the session's platform is the client's")
	assert.Equal(t, e.Client.AppID(), s.AppID, "the session's appid is the client's")
	assert.Equal(t, openID, s.OpenID)
	assert.True(t, e.Client.Platform().Known(), "the client names a known platform")
	if s.SessionKey != "" {
		for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v %#v %s %q", s, s, s, *s)} {
			assert.NotContains(t, out, s.SessionKey, "a session never prints its key")
		}
	}
}

func testUsedCode(t *testing.T, e Env) {
	code, _ := e.Code(t)
	_, err := e.Client.Code2Session(context.Background(), code)
	require.NoError(t, err)
	_, err = e.Client.Code2Session(context.Background(), code)
	require.Error(t, err, "a code works once")
	assert.True(t, errors.Is(err, miniauth.ErrCodeUsed) || errors.Is(err, miniauth.ErrInvalidCode),
		"a used code matches ErrCodeUsed or ErrInvalidCode: %v", err)
	assert.NotContains(t, err.Error(), code, "no code in an error")
}

func testUnknownCode(t *testing.T, e Env) {
	const code = "0c3nEver1ssued0000000000000000ab"
	_, err := e.Client.Code2Session(context.Background(), code)
	require.Error(t, err)
	assert.ErrorIs(t, err, miniauth.ErrInvalidCode)
	assert.False(t, errors.Is(err, miniauth.ErrInvalidCredential), "a bad code is not a bad app credential")
	assert.NotContains(t, err.Error(), code, "no code in an error")
}

func testMalformedCode(t *testing.T, e Env) {
	before := calls(e)
	for _, code := range []string{"", strings.Repeat("a", 4096), "a b", "a\x00b", "码", "a\nb"} {
		s, err := e.Client.Code2Session(context.Background(), code)
		assert.Nil(t, s)
		assert.ErrorIs(t, err, miniauth.ErrInvalidCode, "%q", code)
	}
	if e.Calls != nil {
		assert.Equal(t, before, calls(e), "a malformed code is never sent upstream")
	}
}

func testSecrets(t *testing.T, e Env) {
	code, _ := e.Code(t)
	_, err := e.Client.Code2Session(context.Background(), code)
	require.NoError(t, err)
	_, used := e.Client.Code2Session(context.Background(), code)
	_, unknown := e.Client.Code2Session(context.Background(), "0c3nEver1ssued0000000000000000cd")
	outs := []string{fmt.Sprint(e.Client), fmt.Sprintf("%+v %#v %s %q", e.Client, e.Client, e.Client, e.Client)}
	for _, err := range []error{used, unknown} {
		if err != nil {
			outs = append(outs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	for _, out := range outs {
		for _, secret := range e.Secrets {
			if secret != "" {
				assert.NotContains(t, out, secret, "a secret of the client was printed")
			}
		}
		assert.NotContains(t, out, code, "a code was printed")
	}
}

func testConcurrent(t *testing.T, e Env) {
	const n = 24
	type login struct{ code, openID string }
	logins := make([]login, n)
	for i := range logins {
		logins[i].code, logins[i].openID = e.Code(t)
	}
	var wg sync.WaitGroup
	got := make([]*miniauth.Session, n)
	errs := make([]error, n)
	for i := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.Client.Code2Session(context.Background(), logins[i].code)
		}()
	}
	wg.Wait()
	for i := range logins {
		require.NoError(t, errs[i])
		assert.Equal(t, logins[i].openID, got[i].OpenID)
	}
}

func testCanceled(t *testing.T, e Env) {
	code, _ := e.Code(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Client.Code2Session(ctx, code)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	// The code was not spent: it still logs the user in.
	s, err := e.Client.Code2Session(context.Background(), code)
	require.NoError(t, err, "a call cancelled before it was sent leaves the code good")
	assert.NotEmpty(t, s.OpenID)
}

func testApps(t *testing.T, e Env) {
	apps, ok := e.Client.(miniauth.Apps)
	if !ok {
		t.Skip("clienttest: the client is not a miniauth.Apps")
	}
	ctx := context.Background()
	for _, id := range []string{"", e.Client.AppID()} {
		c, err := apps.App(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, e.Client.AppID(), c.AppID())
		assert.Equal(t, e.Client.Platform(), c.Platform())
	}
	_, err := apps.App(ctx, e.Client.AppID()+"-other")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
}

func calls(e Env) int {
	if e.Calls == nil {
		return 0
	}
	return e.Calls()
}
