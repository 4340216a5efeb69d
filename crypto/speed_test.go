package crypto_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/testutil"
)

// TestVerifySignatureAllocatesNothing holds VerifySignature to its 0
// allocations for a profile-sized rawData, for success and failure alike.
func TestVerifySignatureAllocatesNothing(t *testing.T) {
	s := testutil.WeChatSamples().Signature
	bad, upper := flipHex(s.Signature, 3), strings.ToUpper(s.Signature)
	allocs := testing.AllocsPerRun(100, func() {
		if crypto.VerifySignature(s.SessionKey, s.RawData, s.Signature) != nil ||
			crypto.VerifySignature(s.SessionKey, s.RawData, upper) != nil ||
			crypto.VerifySignature(s.SessionKey, s.RawData, bad) == nil {
			t.Fatal("wrong verdict")
		}
	})
	assert.Zero(t, allocs)
}

// TestSignatureLengths checks the signature around the length where
// VerifySignature leaves its stack buffer for a streaming hash.
func TestSignatureLengths(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 999, 1000, 1001, 1024, 4096, crypto.MaxRawDataLen} {
		raw := strings.Repeat("x", n)
		sig := crypto.Sign(testKey, raw)
		require.Equal(t, plainSHA1(raw+testKey), sig, "len %d", n)
		require.NoError(t, crypto.VerifySignature(testKey, raw, sig), "len %d", n)
		require.NoError(t, crypto.VerifySignature(testKey, raw, strings.ToUpper(sig)), "len %d", n)
		require.ErrorIs(t, crypto.VerifySignature(testKey, raw, flipHex(sig, n%40)), crypto.ErrSignature, "len %d", n)
	}
}
