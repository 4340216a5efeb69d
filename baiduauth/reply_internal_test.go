package baiduauth

import (
	"testing"

	"github.com/wxmp/miniauth/internal/engine"
)

// FuzzCode2SessionReply: the reply decoder takes any body without a panic,
// and a reply it calls a success carries no error.
func FuzzCode2SessionReply(f *testing.F) {
	f.Add([]byte(`{"openid":"l214zFqNrEuIEnp6m7Y01sw8yj","session_key":"981ce8b151c0599acf7ad1a673c6ff5e"}`))
	f.Add([]byte(`{"errno":10010100,"error":"parameter is invalid","error_description":"x"}`))
	f.Add([]byte(`{"error":"invalid_grant","error_description":"Invalid authorization code: abc"}`))
	f.Add([]byte(`{"errno":"0"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r code2SessionReply
		if engine.Decode(body, &r) != nil {
			return
		}
		if !r.Failed() {
			if r.Error != "" {
				t.Fatalf("a success with error %q", r.Error)
			}
			return
		}
		if _, err := r.Err("jscode2sessionkey", engine.Scrubber{}); err == nil {
			t.Fatal("a failed reply without an error")
		}
	})
}
