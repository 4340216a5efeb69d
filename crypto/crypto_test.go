package crypto_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/testutil"
)

// b64 is standard base64 with padding, as WeChat sends keys, ivs and data.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Fixed test key and iv (not secrets), as raw bytes and as WeChat would send them.
var (
	rawKey  = []byte("0123456789abcdef")
	rawIV   = []byte("fedcba9876543210")
	testKey = b64(rawKey)
	testIV  = b64(rawIV)
)

// encryptRaw encrypts whole blocks with AES-128-CBC without adding any
// padding, so a test controls every plaintext byte, the last one included.
func encryptRaw(tb testing.TB, key, iv, blocks []byte) string {
	tb.Helper()
	require.Zero(tb, len(blocks)%aes.BlockSize, "encryptRaw needs whole blocks")
	block, err := aes.NewCipher(key)
	require.NoError(tb, err)
	out := make([]byte, len(blocks))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, blocks)
	return b64(out)
}

// decryptRaw decrypts whole blocks with AES-128-CBC without removing padding.
func decryptRaw(tb testing.TB, key, iv []byte, data string) []byte {
	tb.Helper()
	ct, err := base64.StdEncoding.DecodeString(data)
	require.NoError(tb, err)
	require.Zero(tb, len(ct)%aes.BlockSize)
	block, err := aes.NewCipher(key)
	require.NoError(tb, err)
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, ct)
	return out
}

// pkcs7 pads b to whole blocks, written independently of the package.
func pkcs7(b []byte) []byte {
	n := aes.BlockSize - len(b)%aes.BlockSize
	return append(bytes.Clone(b), bytes.Repeat([]byte{byte(n)}, n)...)
}

// withTail returns n bytes of filler ending in tail.
func withTail(n int, tail ...byte) []byte {
	b := bytes.Repeat([]byte{'x'}, n-len(tail))
	return append(b, tail...)
}

// badKeys are session_key (or iv) strings that are not standard base64 of
// exactly 16 bytes.
var badKeys = []struct {
	name, key string
}{
	{"empty", ""},
	{"not base64", "not base64 at all!!!!!!!"},
	{"15 bytes", b64(bytes.Repeat([]byte{1}, 15))},
	{"17 bytes", b64(bytes.Repeat([]byte{1}, 17))},
	{"32 bytes", b64(bytes.Repeat([]byte{1}, 32))},
	{"url-safe alphabet", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 16))},
	{"unpadded", base64.RawStdEncoding.EncodeToString(rawKey)},
	{"raw 16 bytes", string(rawKey)},
	{"trailing newline", testKey[:23] + "\n"},
	{"padding inside", "AAAA====AAAAAAAAAAAAAAAA"},
	// Non-canonical: the unused low bits of the last character are set, so
	// two texts would name one key. Strict decoding refuses it.
	{"non-canonical trailing bits", "tiihtNczf5v6AKRyjwEUhR=="},
}

func TestBadKeysAreWhatTheyClaim(t *testing.T) {
	t.Parallel()
	// The url-safe row must differ from its standard form, or it tests nothing.
	require.True(t, strings.ContainsAny(b64(bytes.Repeat([]byte{0xfb}, 16)), "+/"))
	for _, tc := range badKeys {
		b, err := base64.StdEncoding.Strict().DecodeString(tc.key)
		assert.False(t, err == nil && len(b) == 16 && len(tc.key) == 24, tc.name)
	}
}

func TestDecryptPublishedSample(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples().Decrypt

	got, err := crypto.Decrypt(s.SessionKey, s.EncryptedData, s.IV)
	require.NoError(t, err)
	assert.Equal(t, s.Plaintext, string(got))

	var payload struct {
		OpenID    string           `json:"openId"`
		UnionID   string           `json:"unionId"`
		Watermark crypto.Watermark `json:"watermark"`
	}
	require.NoError(t, json.Unmarshal(got, &payload))
	assert.Equal(t, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", payload.OpenID)
	assert.Equal(t, "ocMvos6NjeKLIBqg5Mr9QjxrP1FA", payload.UnionID)
	assert.Equal(t, "wx4f4bc4dec97d474b", payload.Watermark.AppID)
	assert.Equal(t, s.AppID, payload.Watermark.AppID)
	assert.Equal(t, int64(1477314187), payload.Watermark.Timestamp)
}

func TestEncryptReproducesPublishedSample(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples().Decrypt

	// CBC with a fixed iv is deterministic: PKCS#7 padding as WeChat does it
	// gives back WeChat's own ciphertext, byte for byte.
	got, err := crypto.Encrypt(s.SessionKey, s.IV, []byte(s.Plaintext))
	require.NoError(t, err)
	assert.Equal(t, s.EncryptedData, got)
}

func TestDecryptInvalidSessionKey(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples().Decrypt
	for _, tc := range badKeys {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := crypto.Decrypt(tc.key, s.EncryptedData, s.IV)
			require.ErrorIs(t, err, crypto.ErrInvalidSessionKey)
			assert.Nil(t, got)
			// The key is checked first: a bad iv and bad data change nothing.
			_, err = crypto.Decrypt(tc.key, "", "")
			require.ErrorIs(t, err, crypto.ErrInvalidSessionKey)
		})
	}
}

func TestDecryptInvalidIV(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples().Decrypt
	for _, tc := range badKeys {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := crypto.Decrypt(s.SessionKey, s.EncryptedData, tc.key)
			require.ErrorIs(t, err, crypto.ErrInvalidIV)
			assert.Nil(t, got)
			// The iv is checked before the data.
			_, err = crypto.Decrypt(s.SessionKey, "", tc.key)
			require.ErrorIs(t, err, crypto.ErrInvalidIV)
		})
	}
}

func TestDecryptFailuresAreIndistinguishable(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples().Decrypt

	// Largest plaintext whose encryptedData is exactly MaxEncryptedDataLen
	// base64 characters; one block more is over the limit.
	maxPlain := base64.StdEncoding.DecodedLen(crypto.MaxEncryptedDataLen) - 1
	atMax := encryptRaw(t, rawKey, rawIV, pkcs7(bytes.Repeat([]byte{'a'}, maxPlain)))
	require.Len(t, atMax, crypto.MaxEncryptedDataLen)
	overMax := encryptRaw(t, rawKey, rawIV, pkcs7(bytes.Repeat([]byte{'a'}, maxPlain+1)))
	require.Greater(t, len(overMax), crypto.MaxEncryptedDataLen)

	got, err := crypto.Decrypt(testKey, atMax, testIV)
	require.NoError(t, err, "exactly MaxEncryptedDataLen is accepted")
	require.Len(t, got, maxPlain)

	wrongKey := b64([]byte("another 16B key!"))
	// Precondition of the "wrong key" row: this key really yields bad padding
	// (checked independently, so the row tests what it says).
	last := decryptRaw(t, []byte("another 16B key!"), mustDecode(t, s.IV), s.EncryptedData)
	require.False(t, validPKCS7(last), "pick another wrong key")

	urlSafe := base64.URLEncoding.EncodeToString(mustDecode(t, s.EncryptedData))
	require.NotEqual(t, s.EncryptedData, urlSafe)

	cases := []struct {
		name, key, data, iv string
	}{
		{"empty", testKey, "", testIV},
		{"not base64", testKey, "this is not base64 !!!!!", testIV},
		{"base64 of nothing", testKey, "====", testIV},
		{"15 bytes", testKey, b64(bytes.Repeat([]byte{7}, 15)), testIV},
		{"17 bytes", testKey, b64(bytes.Repeat([]byte{7}, 17)), testIV},
		{"unpadded base64", s.SessionKey, base64.RawStdEncoding.EncodeToString(mustDecode(t, s.EncryptedData)[:32]), s.IV},
		{"url-safe alphabet", s.SessionKey, urlSafe, s.IV},
		{"trailing garbage", s.SessionKey, s.EncryptedData + "AAAA!", s.IV},
		{"over MaxEncryptedDataLen", testKey, overMax, testIV},
		{"over MaxEncryptedDataLen, garbage", testKey, strings.Repeat("A", crypto.MaxEncryptedDataLen+1), testIV},
		{"wrong key", wrongKey, s.EncryptedData, s.IV},
		{"pad byte 0", testKey, encryptRaw(t, rawKey, rawIV, withTail(32, 0)), testIV},
		{"pad byte 17", testKey, encryptRaw(t, rawKey, rawIV, withTail(32, bytes.Repeat([]byte{17}, 17)...)), testIV},
		{"pad byte 255", testKey, encryptRaw(t, rawKey, rawIV, bytes.Repeat([]byte{255}, 256)), testIV},
		{"inconsistent pad bytes", testKey, encryptRaw(t, rawKey, rawIV, withTail(16, 5, 4, 4, 4)), testIV},
		{"inconsistent first of 16", testKey, encryptRaw(t, rawKey, rawIV, withTail(32, append([]byte{15}, bytes.Repeat([]byte{16}, 15)...)...)), testIV},
		{"inconsistent middle", testKey, encryptRaw(t, rawKey, rawIV, withTail(16, 8, 8, 8, 0, 8, 8, 8, 8)), testIV},
		// Consistent bytes, but the pad is longer than a block: a lenient
		// unpad that checks only pad <= len would accept these.
		{"pad 32 of 0x20", testKey, encryptRaw(t, rawKey, rawIV, bytes.Repeat([]byte{32}, 32)), testIV},
		{"pad 17 of 0x11", testKey, encryptRaw(t, rawKey, rawIV, withTail(48, bytes.Repeat([]byte{17}, 17)...)), testIV},
		{"tampered last block", s.SessionKey, tamperLastByte(t, s.EncryptedData), s.IV},
	}

	var text string
	for _, tc := range cases {
		got, err := crypto.Decrypt(tc.key, tc.data, tc.iv)
		require.ErrorIs(t, err, crypto.ErrDecrypt, tc.name)
		assert.Nil(t, got, tc.name)
		// The padding-oracle property: one text for every ciphertext failure.
		if text == "" {
			text = err.Error()
		}
		assert.Equal(t, text, err.Error(), tc.name)
		assert.NotContains(t, err.Error(), tc.key, tc.name)
	}
	assert.Equal(t, crypto.ErrDecrypt.Error(), text)
}

// TestDecryptValidPadding covers every pad length 1..16 and every plaintext
// length that ends in a full pad block, through raw blocks the test builds.
func TestDecryptValidPadding(t *testing.T) {
	t.Parallel()
	for pad := 1; pad <= aes.BlockSize; pad++ {
		for _, blocks := range []int{1, 2, 3} {
			n := blocks * aes.BlockSize
			if pad > n {
				continue
			}
			plain := withTail(n, bytes.Repeat([]byte{byte(pad)}, pad)...)
			got, err := crypto.Decrypt(testKey, encryptRaw(t, rawKey, rawIV, plain), testIV)
			require.NoError(t, err, "pad %d, %d blocks", pad, blocks)
			assert.Equal(t, plain[:n-pad], got, "pad %d, %d blocks", pad, blocks)
		}
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	t.Parallel()
	for n := 0; n <= 48; n++ {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(i*7 + n)
		}
		ct, err := crypto.Encrypt(testKey, testIV, plain)
		require.NoError(t, err, n)

		// An exact multiple of 16 gets a whole block of padding.
		want := (n/aes.BlockSize + 1) * aes.BlockSize
		raw := decryptRaw(t, rawKey, rawIV, ct)
		require.Len(t, raw, want, n)
		assert.Equal(t, pkcs7(plain), raw, "PKCS#7 padding of %d bytes", n)
		assert.Equal(t, encryptRaw(t, rawKey, rawIV, pkcs7(plain)), ct, n)

		got, err := crypto.Decrypt(testKey, ct, testIV)
		require.NoError(t, err, n)
		assert.Equal(t, plain, got, n)
	}
}

func TestEncryptDoesNotModifyPlaintext(t *testing.T) {
	t.Parallel()
	plain := []byte("0123456789abcdef0123")
	before := bytes.Clone(plain)
	_, err := crypto.Encrypt(testKey, testIV, plain[:10])
	require.NoError(t, err)
	assert.Equal(t, before, plain)
}

func TestEncryptInvalidKeyAndIV(t *testing.T) {
	t.Parallel()
	for _, tc := range badKeys {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ct, err := crypto.Encrypt(tc.key, testIV, []byte("x"))
			require.ErrorIs(t, err, crypto.ErrInvalidSessionKey)
			assert.Empty(t, ct)

			ct, err = crypto.Encrypt(testKey, tc.key, []byte("x"))
			require.ErrorIs(t, err, crypto.ErrInvalidIV)
			assert.Empty(t, ct)
		})
	}
}

func TestSignPublishedSample(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples().Signature

	assert.Equal(t, s.Signature, crypto.Sign(s.SessionKey, s.RawData))
	sum := sha1.Sum([]byte(s.RawData + s.SessionKey))
	assert.Equal(t, hex.EncodeToString(sum[:]), crypto.Sign(s.SessionKey, s.RawData))
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples().Signature
	sig := s.Signature
	atMax := strings.Repeat("r", crypto.MaxRawDataLen)
	overMax := atMax + "r"

	cases := []struct {
		name, key, raw, sig string
		want                error
	}{
		{"published sample", s.SessionKey, s.RawData, sig, nil},
		{"upper-case hex", s.SessionKey, s.RawData, strings.ToUpper(sig), nil},
		{"mixed-case hex", s.SessionKey, s.RawData, strings.ToUpper(sig[:20]) + sig[20:], nil},
		{"empty rawData", testKey, "", crypto.Sign(testKey, ""), nil},
		{"rawData at MaxRawDataLen", testKey, atMax, crypto.Sign(testKey, atMax), nil},

		{"rawData changed", s.SessionKey, s.RawData + " ", sig, crypto.ErrSignature},
		{"other key", testKey, s.RawData, sig, crypto.ErrSignature},
		{"first char flipped", s.SessionKey, s.RawData, flipHex(sig, 0), crypto.ErrSignature},
		{"last char flipped", s.SessionKey, s.RawData, flipHex(sig, len(sig)-1), crypto.ErrSignature},
		{"empty signature", s.SessionKey, s.RawData, "", crypto.ErrSignature},
		{"too short", s.SessionKey, s.RawData, sig[:39], crypto.ErrSignature},
		{"too long", s.SessionKey, s.RawData, sig + "0", crypto.ErrSignature},
		{"sha256 length", s.SessionKey, s.RawData, sig + sig[:24], crypto.ErrSignature},
		{"non-hex", s.SessionKey, s.RawData, "zz" + sig[2:], crypto.ErrSignature},
		{"non-hex, 40 spaces", s.SessionKey, s.RawData, strings.Repeat(" ", 40), crypto.ErrSignature},
		{"0x prefix", s.SessionKey, s.RawData, "0x" + sig[:38], crypto.ErrSignature},
		{"raw digest bytes", s.SessionKey, s.RawData, string(mustHex(t, sig)), crypto.ErrSignature},
		{"rawData over MaxRawDataLen", testKey, overMax, crypto.Sign(testKey, overMax), crypto.ErrSignature},

		// With an empty key the signature is a plain sha1 of rawData that
		// anyone can compute: it must never verify.
		{"empty session key", "", s.RawData, crypto.Sign("", s.RawData), crypto.ErrInvalidSessionKey},
		{"empty session key, plain sha1", "", s.RawData, plainSHA1(s.RawData), crypto.ErrInvalidSessionKey},
	}
	for _, k := range badKeys {
		cases = append(cases, struct {
			name, key, raw, sig string
			want                error
		}{"bad key: " + k.name, k.key, s.RawData, crypto.Sign(k.key, s.RawData), crypto.ErrInvalidSessionKey})
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := crypto.VerifySignature(tc.key, tc.raw, tc.sig)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.want.Error(), err.Error())
			if tc.key != "" {
				assert.NotContains(t, err.Error(), tc.key)
			}
		})
	}
}

func TestLoginStateSignature(t *testing.T) {
	t.Parallel()
	// The example in WeChat's documentation of the user login-state signature.
	assert.Equal(t,
		"654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b",
		crypto.LoginStateSignature("o0q0otL8aEzpcZL/FT9WsQ==", []byte(`{"foo":"bar"}`)))

	for _, key := range []string{"o0q0otL8aEzpcZL/FT9WsQ==", "tiihtNczf5v6AKRyjwEUhQ==", testKey} {
		m := hmac.New(sha256.New, []byte(key))
		want := hex.EncodeToString(m.Sum(nil)) // hmac of the empty message

		assert.Equal(t, want, crypto.SessionKeySignature(key), key)
		assert.Equal(t, want, crypto.LoginStateSignature(key, nil), key)
		assert.Equal(t, want, crypto.LoginStateSignature(key, []byte{}), key)
	}
	assert.NotEqual(t, crypto.SessionKeySignature(testKey), crypto.SessionKeySignature("tiihtNczf5v6AKRyjwEUhQ=="))
}

func TestErrorTexts(t *testing.T) {
	t.Parallel()
	sentinels := []error{crypto.ErrInvalidSessionKey, crypto.ErrInvalidIV, crypto.ErrDecrypt, crypto.ErrSignature}
	seen := map[string]bool{}
	for _, err := range sentinels {
		assert.True(t, strings.HasPrefix(err.Error(), "crypto: "), err.Error())
		assert.False(t, seen[err.Error()], "duplicate text %q", err.Error())
		seen[err.Error()] = true
		for _, other := range sentinels {
			if other != err {
				assert.False(t, errors.Is(err, other), "%v is %v", err, other)
			}
		}
	}

	// No error, whatever the input, carries the session key (nor the iv).
	s := testutil.WeChatSamples()
	key, iv := s.Decrypt.SessionKey, s.Decrypt.IV
	errs := []error{}
	add := func(err error) { errs = append(errs, err) }
	_, err := crypto.Decrypt(key, "AAAA", iv)
	add(err)
	_, err = crypto.Decrypt(key, s.Decrypt.EncryptedData, key[:20])
	add(err)
	_, err = crypto.Decrypt(key+"x", s.Decrypt.EncryptedData, iv)
	add(err)
	_, err = crypto.Decrypt(key[:23]+"!", s.Decrypt.EncryptedData, iv)
	add(err)
	_, err = crypto.Encrypt(key[:22], iv, nil)
	add(err)
	add(crypto.VerifySignature(key, "raw", strings.Repeat("0", 40)))
	add(crypto.VerifySignature(key[:22], "raw", strings.Repeat("0", 40)))
	for _, err := range errs {
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "crypto: "), err.Error())
		assert.NotContains(t, err.Error(), key[:22])
		assert.NotContains(t, err.Error(), iv[:22])
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := testutil.WeChatSamples()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := crypto.Decrypt(s.Decrypt.SessionKey, s.Decrypt.EncryptedData, s.Decrypt.IV)
				if !assert.NoError(t, err) || !assert.Equal(t, s.Decrypt.Plaintext, string(got)) {
					return
				}
				assert.NoError(t, crypto.VerifySignature(s.Signature.SessionKey, s.Signature.RawData, s.Signature.Signature))
			}
		})
	}
	wg.Wait()
}

func mustDecode(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(tb, err)
	return b
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(tb, err)
	return b
}

func plainSHA1(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// validPKCS7 reports whether b ends in strict PKCS#7 padding.
func validPKCS7(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	pad := int(b[len(b)-1])
	if pad < 1 || pad > aes.BlockSize || pad > len(b) {
		return false
	}
	for _, c := range b[len(b)-pad:] {
		if int(c) != pad {
			return false
		}
	}
	return true
}

// tamperLastByte flips the low bit of the second-to-last ciphertext block's
// last byte, which flips the same bit of the last plaintext byte (the pad).
func tamperLastByte(tb testing.TB, data string) string {
	tb.Helper()
	ct := mustDecode(tb, data)
	require.GreaterOrEqual(tb, len(ct), 2*aes.BlockSize)
	ct[len(ct)-aes.BlockSize-1] ^= 0x01
	return b64(ct)
}

// flipHex changes the hex digit at i to a different hex digit.
func flipHex(sig string, i int) string {
	c := byte('0')
	if sig[i] == '0' {
		c = '1'
	}
	return sig[:i] + string(c) + sig[i+1:]
}

func TestCheckSessionKeyAndIV(t *testing.T) {
	t.Parallel()
	require.NoError(t, crypto.CheckSessionKey(testKey))
	require.NoError(t, crypto.CheckIV(testIV))
	for _, tc := range badKeys {
		assert.ErrorIs(t, crypto.CheckSessionKey(tc.key), crypto.ErrInvalidSessionKey, tc.name)
		assert.ErrorIs(t, crypto.CheckIV(tc.key), crypto.ErrInvalidIV, tc.name)
	}
}
