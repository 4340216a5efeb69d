package engine

import (
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzRequestURL checks the query encoding of Request against
// url.Values.Encode, which platforms' servers parse.
func FuzzRequestURL(f *testing.F) {
	f.Add("appid", "wx1", "js_code", "0a3X+/=", "&=?#")
	f.Add("", "", "a b", "c&d", "é")
	f.Add("secret", "s", "secret2", "%zz", "\x00")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, v3 string) {
		q := map[string]string{k1: v1, k2: v2, "z": v3}
		r := Request{Base: "https://h", Path: "/p", Query: q}
		want := url.Values{}
		for k, v := range q {
			want.Set(k, v)
		}
		if got, exp := r.url(), "https://h/p?"+want.Encode(); got != exp {
			t.Fatalf("url() = %q, want %q", got, exp)
		}
	})
}

// FuzzReadBody checks readBody against the limit: it returns the body
// whole up to MaxBodyLen bytes and errBodyTooLarge past it, whatever the
// buffer it starts from.
func FuzzReadBody(f *testing.F) {
	f.Add([]byte(`{"openid":"o"}`), 0, uint8(7))
	f.Add([]byte{}, MaxBodyLen-1, uint8(1))
	f.Add([]byte("x"), MaxBodyLen, uint8(0))
	f.Fuzz(func(t *testing.T, head []byte, pad int, chunk uint8) {
		if pad < 0 || pad > MaxBodyLen+10 {
			return
		}
		body := append(append([]byte{}, head...), make([]byte, pad)...)
		buf := make([]byte, 0, int(chunk))
		got, err := readBody(&chunkReader{b: body, n: int(chunk) + 1}, &buf)
		if len(body) > MaxBodyLen {
			if err != errBodyTooLarge {
				t.Fatalf("%d bytes: err %v, want errBodyTooLarge", len(body), err)
			}
			return
		}
		if err != nil || string(got) != string(body) {
			t.Fatalf("%d bytes: got %d bytes, err %v", len(body), len(got), err)
		}
		if cap(buf) > maxPooledBuf {
			t.Fatalf("a buffer of %d bytes is kept for reuse", cap(buf))
		}
	})
}

// chunkReader hands out b at most n bytes a Read.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// FuzzIntCode checks IntCode against strconv: a number or a numeric string
// decodes to its value, null and "" to 0, and nothing else decodes.
func FuzzIntCode(f *testing.F) {
	for _, s := range []string{`40029`, `"40029"`, `-1`, `"-1"`, `null`, `""`, `1.5`, `"x"`, `true`, `"4\u0030"`, `99999999999999999999`, `"+1"`, ` 7 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c IntCode
		err := json.Unmarshal(b, &c)
		var raw any
		if json.Unmarshal(b, &raw) != nil {
			if err == nil {
				t.Fatalf("%q is not JSON, IntCode took it", b)
			}
			return
		}
		var text string
		switch v := raw.(type) {
		case nil:
			if err != nil || c != 0 {
				t.Fatalf("null: %d, %v", c, err)
			}
			return
		case string:
			if v == "" {
				if err != nil || c != 0 {
					t.Fatalf(`"": %d, %v`, c, err)
				}
				return
			}
			text = v
		case float64:
			text = strings.TrimSpace(string(b))
		default:
			if err == nil {
				t.Fatalf("%q decoded as %d", b, c)
			}
			return
		}
		n, aerr := strconv.Atoi(text)
		if (aerr == nil) != (err == nil) || (err == nil && int(c) != n) {
			t.Fatalf("%q: IntCode %d, %v; strconv %d, %v", b, c, err, n, aerr)
		}
	})
}
