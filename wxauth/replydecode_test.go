package wxauth

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzDecodeFast checks the fast decoder of jscode2session's reply against
// encoding/json: whatever it accepts, encoding/json decodes to the same
// value.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range []string{
		`{"session_key":"tiihtNczf5v6AKRyjwEUhQ==","openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","unionid":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}`,
		`{"errcode":40029,"errmsg":"invalid code, rid: 6523f1a2"}`,
		`{"errcode":"40029","errmsg":"invalid code"}`,
		`{"errcode":-1,"errmsg":"system busy"}`,
		` { "openid" : "a" , "openid":"b", "x": null, "y": true, "z": -0, "w": 12 } `,
		`{"OpenID":"a"}`, `{"openid":"a\u0062"}`, `{"openid":"é"}`, `{"openid":null}`, `{"errcode":1.5}`,
		`{"errcode":01}`, `{"openid":"a",}`, `{}`, `{"a":{"b":1}}`, `[]`, `{"openid":"a"}x`, ``, `{"errcode":1e3}`,
		`{"errcode":1234567890}`, `{"session_kEy":"k"}`, `{"x":tru}`, `{"x":-}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast code2SessionReply
		if !fast.decodeFast(body) {
			return
		}
		var std code2SessionReply
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("decodeFast accepted %q, encoding/json refuses it: %v", body, err)
		}
		if fast != std {
			t.Fatalf("decodeFast(%q) = %+v, encoding/json %+v", body, fast, std)
		}
	})
}

func TestDecodeFastTakesWeChatsReplies(t *testing.T) {
	for _, body := range []string{
		`{"session_key":"tiihtNczf5v6AKRyjwEUhQ==","openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE"}`,
		`{"errcode":40163,"errmsg":"code been used, rid: 6523f1a2-1b2c3d4e"}`,
	} {
		var r code2SessionReply
		assert.True(t, r.decodeFast([]byte(body)), body)
	}
	var r code2SessionReply
	assert.False(t, r.decodeFast([]byte(`{"errcode":"40029"}`)), "a string errcode is encoding/json's")
	assert.NoError(t, decodeReply([]byte(`{"errcode":"40029"}`), &r))
	assert.Equal(t, errCode(40029), r.ErrCode)
}
