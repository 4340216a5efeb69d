package redistoken

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds what a Redis hash may hold to the decoder: it never
// panics, and what it accepts is a usable token.
func FuzzDecode(f *testing.F) {
	f.Add("TOKEN", "1700000000000", "1699990000000")
	f.Add("TOKEN", "0", "0")
	f.Add("", "1", "1")
	f.Add("TOKEN", "-1", "x")
	f.Add("TOKEN", "99999999999999999999", "0")
	f.Fuzz(func(t *testing.T, tok, exp, iss string) {
		got := decode([]any{tok, exp, iss})
		if got == nil {
			return
		}
		require.NotEmpty(t, got.AccessToken)
		require.LessOrEqual(t, len(got.AccessToken), maxTokenLen)
	})
}

func TestDecodeShapes(t *testing.T) {
	t.Parallel()
	for _, vals := range [][]any{nil, {nil, nil, nil}, {"T", nil, "0"}, {"T", "0"}, {1, "0", "0"}} {
		require.Nil(t, decode(vals))
	}
	require.NotNil(t, decode([]any{"T", "0", "0"}))
}
