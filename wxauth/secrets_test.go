package wxauth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
)

// TestTokenJSONLeavesTheTokenOut: a Token marshalled on its own, inside
// another value, or logged inside a struct by slog's JSON handler (which
// uses encoding/json, not LogValue, for nested values) carries its expiry
// and never its access token.
func TestTokenJSONLeavesTheTokenOut(t *testing.T) {
	t.Parallel()
	const secret = "SECRET_ACCESS_TOKEN_json_123"
	tok := wxauth.Token{AccessToken: secret, ExpiresAt: time.Unix(1700000000, 0).UTC()}
	direct, err := json.Marshal(tok)
	require.NoError(t, err)
	nested, err := json.Marshal(map[string]any{"tok": tok, "ptr": &tok})
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("t",
		"token", tok, "nested", struct{ T wxauth.Token }{tok}, "list", []wxauth.Token{tok})
	for _, s := range []string{string(direct), string(nested), logs.String()} {
		assert.NotContains(t, s, secret)
	}
	assert.Contains(t, string(direct), "2023-11-14T22:13:20Z", "the expiry is kept")
}

// TestAppValueNeverPrintsTheSecret: an App value, not only a pointer,
// prints its appid and nothing else under every verb.
func TestAppValueNeverPrintsTheSecret(t *testing.T) {
	t.Parallel()
	app, err := wxauth.New(testAppID, testSecret)
	require.NoError(t, err)
	v := *app
	holder := struct{ App wxauth.App }{v}
	for _, s := range []string{
		fmt.Sprint(v), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", v, v, v, v, v, v),
		fmt.Sprintf("%v|%+v|%#v", holder, holder, holder), fmt.Sprintf("%+v", []wxauth.App{v}),
		fmt.Sprintf("%+v|%#v", app, app),
	} {
		assert.NotContains(t, s, testSecret)
		assert.Contains(t, s, testAppID)
	}
}

// TestWithBaseURLErrorRedacts: a rejected base URL is quoted without its
// userinfo (a proxy's password), query or fragment.
func TestWithBaseURLErrorRedacts(t *testing.T) {
	t.Parallel()
	const pw = "pr0xy-Passw0rd-42"
	for _, base := range []string{
		"ftp://alice:" + pw + "@proxy.example.com:3128",
		"https://alice:" + pw + "@proxy.example.com",
		"https://" + pw + "@proxy.example.com",
		"https://proxy.example.com/?token=" + pw,
		"https://proxy.example.com/#" + pw,
		"socks5://proxy.example.com/?key=" + pw,
		"http:alice:" + pw + "@proxy.example.com",
		"https://alice:" + pw + "@proxy example.com",    // does not parse
		"https://alice:" + pw + "%zz@proxy.example.com", // does not parse
	} {
		_, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(base))
		require.Error(t, err, base)
		assert.Contains(t, err.Error(), "base URL")
		assert.NotContains(t, err.Error(), pw, base)
	}
	_, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL("ftp://proxy.example.com:3128/x"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ftp://proxy.example.com:3128/x", "what is not secret is quoted, to help")
}
