package wxauth_test

// Tests of what a hostile or broken upstream (or a man in the middle) can
// make wxauth print or accept.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
)

// requireChainClean checks every error in err's chain, and its %+v and %#v,
// for the secret and the code.
func requireChainClean(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
			assert.NotContains(t, s, testSecret, "%T", e)
			assert.NotContains(t, s, testCode, "%T", e)
		}
	}
}

// urlEchoTransport fails every request with an error quoting its URL, as
// circuit breakers and tracing transports often do.
type urlEchoTransport struct{}

func (urlEchoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("breaker open for %s", r.URL.String())
}

func TestTransportErrorChainIsScrubbed(t *testing.T) {
	t.Parallel()
	for name, rt := range map[string]http.RoundTripper{
		"transport error quotes the URL": urlEchoTransport{},
		"httpmock without a responder":   httpmock.NewMockTransport(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app, err := wxauth.New(testAppID, testSecret, wxauth.WithRetry(0), wxauth.WithHTTPClient(&http.Client{Transport: rt}))
			require.NoError(t, err)
			_, err = app.Code2Session(context.Background(), testCode)
			requireChainClean(t, err)
		})
	}
}

func TestRedirectTargetIsScrubbed(t *testing.T) {
	t.Parallel()
	// The upstream reflects the secret and the code into the path and an
	// innocently named parameter of a redirect.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, "/moved/"+q.Get("secret")+"?x="+q.Get("js_code"), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = app.Code2Session(context.Background(), testCode)
	requireChainClean(t, err)
}

func TestTransportCauseStaysReachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL("http://"+addr), wxauth.WithRetry(0))
	require.NoError(t, err)
	_, err = app.Code2Session(context.Background(), testCode)
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr, "errors.As reaches the cause through the scrubbed copy")
	assert.Equal(t, "dial", opErr.Op)
	requireChainClean(t, err)
}

func TestErrmsgIsScrubbedBeforeItIsCut(t *testing.T) {
	t.Parallel()
	for _, pad := range []int{0, 200, 240, 250, 255, 300} {
		t.Run(fmt.Sprint(pad), func(t *testing.T) {
			t.Parallel()
			app, mt, _ := newMocked(t)
			msg := strings.Repeat("x", pad) + " " + testSecret + " " + testCode
			mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200, fmt.Sprintf(`{"errcode":40125,"errmsg":%q}`, msg)))
			_, err := app.Code2Session(context.Background(), testCode)
			require.ErrorIs(t, err, wxauth.ErrInvalidCredential)
			for n := 12; n <= len(testSecret); n++ { // no part of the secret survives the cut
				assert.NotContains(t, err.Error(), testSecret[:n])
			}
			var apiErr *wxauth.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.LessOrEqual(t, len(apiErr.Msg), 256)
		})
	}
}

func TestErrmsgCannotForgeLogLines(t *testing.T) {
	t.Parallel()
	app, mt, _ := newMocked(t)
	mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200,
		`{"errcode":40029,"errmsg":"invalid code\n2026-01-01 INFO admin login ok\u001b[2J\r\u0000 `+"\xff\xfe"+`, rid: 1\n2"}`))
	_, err := app.Code2Session(context.Background(), testCode)
	require.ErrorIs(t, err, wxauth.ErrInvalidCode)
	assert.NotContains(t, err.Error(), "\n")
	assert.NotContains(t, err.Error(), "\x1b")
	assert.NotContains(t, err.Error(), "\r")
	assert.NotContains(t, err.Error(), "\x00")
	assert.True(t, strings.ToValidUTF8(err.Error(), "?") == err.Error(), "valid UTF-8")
}

func TestCode2SessionRefusesUnusableIDs(t *testing.T) {
	t.Parallel()
	const key = `"session_key":"tiihtNczf5v6AKRyjwEUhQ=="`
	for name, body := range map[string]string{
		"newline in openid":   `{"openid":"o1\nlevel=INFO msg=forged",` + key + `}`,
		"space in openid":     `{"openid":"o1 o2",` + key + `}`,
		"openid too long":     `{"openid":"` + strings.Repeat("o", wxauth.MaxOpenIDLen+1) + `",` + key + `}`,
		"unionid too long":    `{"openid":"o1","unionid":"` + strings.Repeat("u", 100000) + `",` + key + `}`,
		"non-ascii unionid":   `{"openid":"o1","unionid":"联合",` + key + `}`,
		"escape in unionid":   `{"openid":"o1","unionid":"u\u001b[2J",` + key + `}`,
		"openid not a string": `{"openid":42,` + key + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app, mt, _ := newMocked(t)
			mt.RegisterResponder(http.MethodGet, code2sess, textResponder(200, body))
			s, err := app.Code2Session(context.Background(), testCode)
			require.ErrorIs(t, err, wxauth.ErrBadResponse)
			assert.Nil(t, s)
		})
	}
}
