package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartRunsTheWholeFlow(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	s := out.String()
	for _, want := range []string{
		"3. server: Code2Session -> openid oQuickstartUser0000000000001",
		`SessionKey: "REDACTED"`,
		"5. server: Decrypt -> Alice from Shenzhen, watermark appid wx1234567890abcdef",
		"6. server: the same code again -> refused",
		"8. client: GET /api/me with the token -> 200 hello oQuickstartUser0000000000001",
		"8. client: GET /api/me with a forged token -> 401",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, secret)
}
