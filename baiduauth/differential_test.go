package baiduauth_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/baiduauth"
)

// Differential checks of Baidu's cipher and framing against an independent
// implementation: the openssl command (the Debian package openssl), with
// padding off so that the framing and Baidu's 32-byte PKCS#7 blocks are
// built and read here, not by either implementation under test. Without
// openssl a local run skips; with CI=true it fails.

func opensslEnc(t *testing.T, decrypt bool, key, iv, in []byte) []byte {
	t.Helper()
	args := []string{"enc", "-aes-192-cbc", "-nopad", "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(iv)}
	if decrypt {
		args = append(args, "-d")
	}
	cmd := exec.Command(needTool(t, "openssl", "openssl"), args...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "openssl %v: %s", args, errb.String())
	return out.Bytes()
}

// frame builds Baidu's plaintext for data by the page's table and pads it.
func frame(data []byte, appKey string, block int) []byte {
	p := make([]byte, 16, 20+len(data)+len(appKey)+block)
	_, _ = rand.Read(p)
	p = binary.BigEndian.AppendUint32(p, uint32(len(data)))
	p = append(append(p, data...), appKey...)
	pad := block - len(p)%block
	return append(p, bytes.Repeat([]byte{byte(pad)}, pad)...)
}

func TestFramingAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	needTool(t, "openssl", "openssl")
	key := make([]byte, 24)
	iv := make([]byte, 16)
	_, _ = rand.Read(key)
	_, _ = rand.Read(iv)
	k64, iv64 := base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(iv)
	for _, n := range []int{0, 1, 255, 256, 4096, 65536} {
		data := jsonOfLen(n)
		for _, block := range []int{16, 32} {
			// openssl encrypts a plaintext framed here; DecryptData reads it.
			ct := opensslEnc(t, false, key, iv, frame(data, testAppKey, block))
			got, err := baiduauth.DecryptData(testAppKey, k64, base64.StdEncoding.EncodeToString(ct), iv64)
			require.NoError(t, err, "n=%d block=%d", n, block)
			assert.True(t, bytes.Equal(data, got), "n=%d block=%d", n, block)
		}
		// Encrypt's output, decrypted by openssl, has the framing of the table.
		ct, err := baiduauth.Encrypt(testAppKey, k64, iv64, data)
		require.NoError(t, err)
		raw, _ := base64.StdEncoding.DecodeString(ct)
		p := opensslEnc(t, true, key, iv, raw)
		require.Zero(t, len(p)%32, "padded to 32-byte blocks")
		pad := int(p[len(p)-1])
		require.True(t, pad >= 1 && pad <= 32)
		assert.Equal(t, strings.Repeat(string(rune(pad)), pad), string(p[len(p)-pad:]))
		p = p[:len(p)-pad]
		assert.Equal(t, uint32(n), binary.BigEndian.Uint32(p[16:20]), "the length, big-endian")
		assert.True(t, bytes.Equal(data, p[20:20+n]))
		assert.Equal(t, testAppKey, string(p[20+n:]), "the AppKey trailer")
	}
	// Baidu's sample decrypts with openssl to the same bytes.
	sk, _ := base64.StdEncoding.DecodeString(sampleSessionKey)
	sv, _ := base64.StdEncoding.DecodeString(sampleIV)
	sd, _ := base64.StdEncoding.DecodeString(sampleData)
	p := opensslEnc(t, true, sk, sv, sd)
	assert.Contains(t, string(p), samplePlain+testAppKey)
}
