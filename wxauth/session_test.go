package wxauth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth"
)

func TestSessionNeverPrintsKey(t *testing.T) {
	t.Parallel()
	s := &wxauth.Session{OpenID: "o1", UnionID: "u1", SessionKey: testKey}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3v"} {
		for _, v := range []any{s, *s, []*wxauth.Session{s}, map[string]wxauth.Session{"k": *s}, struct{ S *wxauth.Session }{s}} {
			out := fmt.Sprintf(format, v)
			assert.NotContains(t, out, testKey, "format %s of %T", format, v)
			assert.NotContains(t, out, "tiihtNczf5v6", "format %s of %T", format, v)
		}
	}
	assert.Equal(t, `miniauth.Session{AppID: "", OpenID: "o1", UnionID: "u1", SessionKey: "REDACTED"}`, s.String())
	assert.Equal(t, s.String(), s.GoString())

	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("login", "session", s, "value", *s)
	assert.NotContains(t, buf.String(), "tiihtNczf5v6")
	assert.Contains(t, buf.String(), `"openid":"o1"`)

	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"openid":"o1","unionid":"u1"}`, string(b), "the session_key never goes to JSON (and so never to a client)")
}

func TestSessionEmptyKeyPrintsEmpty(t *testing.T) {
	t.Parallel()
	s := wxauth.Session{OpenID: "o1"}
	assert.Equal(t, `miniauth.Session{AppID: "", OpenID: "o1", UnionID: "", SessionKey: ""}`, fmt.Sprint(s))
}
