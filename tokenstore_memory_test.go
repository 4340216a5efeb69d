package miniauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/wxauth/tokenstoretest"
)

// TestMemoryTokenStoreConformance checks MemoryTokenStore against the
// TokenStore contract, with every instance of a fleet sharing one store as
// the clients of one process do.
func TestMemoryTokenStoreConformance(t *testing.T) {
	t.Parallel()
	tokenstoretest.Run(t, func(*testing.T) func() miniauth.TokenStore {
		store := miniauth.NewMemoryTokenStore()
		return func() miniauth.TokenStore { return store }
	})
}

// TestTokenNeverPrinted: no fmt verb, slog handler or JSON shows the
// token itself.
func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	const secret = "SECRET_ACCESS_TOKEN_123"
	tok := miniauth.Token{AccessToken: secret, ExpiresAt: time.Unix(1700000000, 0).UTC()}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("t", "token", tok, "ptr", &tok)
	for _, s := range []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q %x", tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%v %+v", &tok, &tok), logs.String(),
	} {
		assert.NotContains(t, s, secret)
	}
	assert.Equal(t, "miniauth.Token{AccessToken: \"REDACTED\", ExpiresAt: 2023-11-14T22:13:20Z}", tok.String())
}

func TestStaticTokenSource(t *testing.T) {
	t.Parallel()
	tok, err := miniauth.StaticTokenSource("STATIC").Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "STATIC", tok.AccessToken)
	assert.True(t, tok.ExpiresAt.IsZero(), "never expires")
	_, err = miniauth.StaticTokenSource("").Token(context.Background())
	require.Error(t, err)
}
