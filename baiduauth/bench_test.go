package baiduauth_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/internal/testutil"
)

// floorDecrypt is the floor DecryptData is measured against: Baidu's
// sample decrypted as plainly as the standard library allows (three base64
// decodes, AES-192-CBC, the pad's last byte trusted, the frame's length
// read whole, the trailer compared), with none of DecryptData's checks
// (exact key and iv lengths, a strict constant-time padding check, size
// limits).
func floorDecrypt(appKey, sessionKey, encryptedData, iv string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil {
		return nil, err
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(ivb) != aes.BlockSize || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, errors.New("bad length")
	}
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(data, data)
	data = data[:len(data)-int(data[len(data)-1])]
	n := int(binary.BigEndian.Uint32(data[16:20]))
	if string(data[20+n:]) != appKey {
		return nil, errors.New("wrong app key")
	}
	return data[20 : 20+n], nil
}

// BenchmarkDecryptData measures DecryptData on Baidu's sample against the
// floor, interleaved (testutil.CompareToFloor: ns/impl, ns/floor and their
// median ratio impl/floor).
func BenchmarkDecryptData(b *testing.B) {
	for _, f := range []func(string, string, string, string) ([]byte, error){baiduauth.DecryptData, floorDecrypt} {
		if got, err := f(testAppKey, sampleSessionKey, sampleData, sampleIV); err != nil || string(got) != samplePlain {
			b.Fatalf("does not decrypt the sample: %v", err)
		}
	}
	testutil.CompareToFloor(b, 200,
		func() error {
			_, err := baiduauth.DecryptData(testAppKey, sampleSessionKey, sampleData, sampleIV)
			return err
		},
		func() error { _, err := floorDecrypt(testAppKey, sampleSessionKey, sampleData, sampleIV); return err })
}
