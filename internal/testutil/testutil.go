// Package testutil holds what the tests of several miniauth packages share:
// WeChat's published sample vectors and a log buffer safe for concurrent
// writes. Only tests import it.
package testutil

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sync"
)

//go:embed testdata/wechat-samples.json
var samplesJSON []byte

// Samples is WeChat's published decryption and signature samples (from its
// open-data docs, quoted by many SDKs' tests).
type Samples struct {
	Decrypt struct {
		AppID         string `json:"appid"`
		SessionKey    string `json:"session_key"`
		IV            string `json:"iv"`
		EncryptedData string `json:"encrypted_data"`
		Plaintext     string `json:"plaintext"`
	} `json:"decrypt"`
	Signature struct {
		RawData    string `json:"raw_data"`
		SessionKey string `json:"session_key"`
		Signature  string `json:"signature"`
	} `json:"signature"`
}

// WeChatSamples returns the published samples, decoded anew on each call so
// that no test can change another's copy. It panics if the embedded file is
// broken, which is a fault of the repository, not of a test.
func WeChatSamples() Samples {
	var s Samples
	if err := json.Unmarshal(samplesJSON, &s); err != nil || s.Decrypt.EncryptedData == "" || s.Signature.Signature == "" {
		panic("testutil: testdata/wechat-samples.json is broken")
	}
	return s
}

// SyncBuffer is a bytes.Buffer safe for concurrent use, for capturing the
// output of a logger that several goroutines write to.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset empties the buffer.
func (s *SyncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
