package douyinauth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

func TestCode2Session(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	openid := srv.AddUser(douyinauthtest.User{UnionID: "ab085c8d-6911-4dca-ba17-257eb646cba8"})
	code := srv.Login(openid)
	s, err := app.Code2Session(context.Background(), code)
	require.NoError(t, err)
	key, err := srv.SessionKey(openid)
	require.NoError(t, err)
	assert.Equal(t, &miniauth.Session{Platform: miniauth.Douyin, AppID: testAppID, OpenID: openid,
		UnionID: "ab085c8d-6911-4dca-ba17-257eb646cba8", SessionKey: key}, s)
	assert.NoError(t, crypto.CheckSessionKey(s.SessionKey))

	// A code works once; Douyin says "bad code" for a used one too.
	_, err = app.Code2Session(context.Background(), code)
	assert.ErrorIs(t, err, douyinauth.ErrInvalidCode)
	assert.NotErrorIs(t, err, miniauth.ErrCodeUsed)
	var ae *douyinauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, int64(40018), ae.Code)
	assert.Equal(t, "jscode2session", ae.Op)
	assert.NotEmpty(t, ae.LogID)
}

func TestCodeRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	ctx := context.Background()
	for _, code := range []string{"", " ", "abc def", "abc\n", strings.Repeat("a", douyinauth.MaxCodeLen+1), "码"} {
		_, err := app.Code2Session(ctx, code)
		assert.ErrorIs(t, err, douyinauth.ErrInvalidCode, "%q", code)
		_, err = app.AnonymousOpenID(ctx, code)
		assert.ErrorIs(t, err, douyinauth.ErrInvalidCode, "%q", code)
		_, _, err = app.Code2SessionAnonymous(ctx, "good", code)
		assert.ErrorIs(t, err, douyinauth.ErrInvalidCode, "%q", code)
		_, err = app.GetPhoneNumber(ctx, code)
		assert.ErrorIs(t, err, douyinauth.ErrInvalidPhoneCode, "%q", code)
		assert.NotErrorIs(t, err, douyinauth.ErrInvalidCode)
	}
	assert.Zero(t, srv.Calls(douyinauthtest.PathCode2Session))
	assert.Zero(t, srv.Calls(douyinauthtest.PathPhoneNumber))
	assert.Zero(t, srv.Calls(douyinauthtest.PathClientToken))
}

func TestAnonymous(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	ctx := context.Background()
	anonID := "_000anonymous-device-1"
	id, err := app.AnonymousOpenID(ctx, srv.AnonymousCode(anonID))
	require.NoError(t, err)
	assert.Equal(t, anonID, id)

	// Data migration: both codes at once. A bad anonymous code spends
	// neither.
	openid := srv.AddUser(douyinauthtest.User{})
	code := srv.Login(openid)
	_, _, err = app.Code2SessionAnonymous(ctx, code, "bogus-anonymous-code")
	var ae *douyinauth.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, int64(40019), ae.Code)
	assert.ErrorIs(t, err, douyinauth.ErrInvalidCode)
	s, got, err := app.Code2SessionAnonymous(ctx, code, srv.AnonymousCode(anonID))
	require.NoError(t, err, "the login code was not spent by the refused call")
	assert.Equal(t, anonID, got)
	assert.Equal(t, openid, s.OpenID, "the session holds the real openid, never the anonymous one")

	// An anonymous code alone never makes a Session.
	_, err = app.Code2Session(ctx, srv.AnonymousCode(anonID))
	assert.ErrorIs(t, err, douyinauth.ErrInvalidCode)
}

// TestReplyChecks feeds replies a real Douyin must not send: each is
// ErrBadResponse, never a session.
func TestReplyChecks(t *testing.T) {
	t.Parallel()
	const key = "h0rt4/77I09nDuSWeGwKKw=="
	tests := map[string]string{
		"no data":             `{"err_no":0,"err_tips":"success"}`,
		"null data":           `{"err_no":0,"err_tips":"success","data":null}`,
		"no openid":           `{"err_no":0,"data":{"session_key":"` + key + `"}}`,
		"openid with space":   `{"err_no":0,"data":{"openid":"a b","session_key":"` + key + `"}}`,
		"openid too long":     `{"err_no":0,"data":{"openid":"` + strings.Repeat("o", 129) + `","session_key":"` + key + `"}}`,
		"bad unionid":         `{"err_no":0,"data":{"openid":"o1","unionid":"\u0000","session_key":"` + key + `"}}`,
		"no session_key":      `{"err_no":0,"data":{"openid":"o1"}}`,
		"short session_key":   `{"err_no":0,"data":{"openid":"o1","session_key":"YWJj"}}`,
		"not JSON":            `<html>gateway</html>`,
		"array":               `[]`,
		"err_no not a number": `{"err_no":"x"}`,
		"data is a string":    `{"err_no":0,"data":"x"}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := mockApp(t, func(*http.Request) (int, string) { return 200, body })
			_, err := app.Code2Session(context.Background(), "code")
			assert.ErrorIs(t, err, douyinauth.ErrBadResponse)
		})
	}
}

func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, nil)
	const n = 64
	codes := make([]string, n)
	openids := make([]string, n)
	for i := range codes {
		openids[i] = srv.AddUser(douyinauthtest.User{})
		codes[i] = srv.Login(openids[i])
	}
	var wg sync.WaitGroup
	errs := make([]error, 2*n)
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := app.Code2Session(context.Background(), codes[i%n]) // every code twice
			if err == nil && s.OpenID != openids[i%n] {
				err = errors.New("wrong user")
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range n {
		// Of the two exchanges of a code, exactly one succeeds.
		a, b := errs[i], errs[i+n]
		assert.True(t, (a == nil) != (b == nil), "code %d: %v / %v", i, a, b)
		for _, err := range []error{a, b} {
			if err != nil {
				assert.ErrorIs(t, err, douyinauth.ErrInvalidCode)
			}
		}
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	srv, app := setup(t, []douyinauthtest.Option{douyinauthtest.WithLatency(time.Second)})
	openid := srv.AddUser(douyinauthtest.User{})
	code := srv.Login(openid)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := app.Code2Session(ctx, code)
	assert.ErrorIs(t, err, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = app.Code2Session(ctx, code)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "the call ends with its context, not with the reply")
	phone, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(ctx, phone)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
