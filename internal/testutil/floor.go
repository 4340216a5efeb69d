package testutil

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"
)

// CompareToFloor runs impl and floor in alternating batches of batch calls
// (the one that goes first alternating too) and reports the time of each
// per call ("ns/impl", "ns/floor") and the median ratio of impl's time to
// floor's over runs of four batches, two of each ("impl/floor"). On a
// shared, noisy machine the two sides of a run see the same noise, and the
// median drops the runs that a pause hit on one side only, so the ratio holds steadier than one computed
// from two benchmarks run one after the other. A failed call stops the
// benchmark.
func CompareToFloor(b *testing.B, batch int, impl, floor func() error) {
	b.Helper()
	run := func(f func() error) time.Duration {
		start := time.Now()
		for range batch {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	var tImpl, tFloor time.Duration
	var ratios []float64
	var pairImpl, pairFloor time.Duration // the current pair of pairs
	n := 0
	for b.Loop() {
		var ti, tf time.Duration
		if n%2 == 0 {
			ti = run(impl)
			tf = run(floor)
		} else {
			tf = run(floor)
			ti = run(impl)
		}
		n++
		tImpl += ti
		tFloor += tf
		pairImpl += ti
		pairFloor += tf
		if n%2 == 0 { // one pair of each order: the order's own bias cancels
			ratios = append(ratios, float64(pairImpl)/float64(pairFloor))
			pairImpl, pairFloor = 0, 0
		}
	}
	if len(ratios) == 0 {
		ratios = append(ratios, float64(tImpl)/float64(tFloor))
	}
	calls := float64(n * batch)
	slices.Sort(ratios)
	b.ReportMetric(0, "ns/op") // an op is two batches: the figures below say more
	b.ReportMetric(float64(tImpl.Nanoseconds())/calls, "ns/impl")
	b.ReportMetric(float64(tFloor.Nanoseconds())/calls, "ns/floor")
	b.ReportMetric(ratios[len(ratios)/2], "impl/floor")
}

// FloorDecrypt is the floor of the decryption benchmarks: WeChat's
// encryptedData decrypted as it is plainly written with the standard
// library alone (three base64 decodes, AES-CBC, a padding check that is
// neither strict nor constant-time), as most WeChat SDKs do it.
func FloorDecrypt(sessionKey, encryptedData, iv string) ([]byte, error) {
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
	pad := int(data[len(data)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, errors.New("bad padding")
	}
	return data[:len(data)-pad], nil
}
