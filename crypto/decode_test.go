package crypto

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestBase64Table(t *testing.T) {
	for c := range 256 {
		want := byte(0xff)
		if i := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", byte(c)); i >= 0 {
			want = byte(i)
		}
		if base64Values[c] != want {
			t.Errorf("base64Values[%#x] = %#x, want %#x", c, base64Values[c], want)
		}
	}
}

// FuzzDecode16 checks decode16 against encoding/base64's strict decoder.
func FuzzDecode16(f *testing.F) {
	for _, s := range []string{"tiihtNczf5v6AKRyjwEUhQ==", "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAB==",
		"////////////////////ww==", "tiihtNczf5v6AKRyjwEUhQ=", "tiihtNczf5v6AKRyjwEUhQ\n=", "tiihtNczf5v6AKRyjwEUhQ=A",
		"tiihtNczf5v6AKRyjwEUh-==", "", "tiihtNczf5v6AKRyjwEUhQ==="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got [16]byte
		ok := decode16(&got, s)
		want, err := base64.StdEncoding.Strict().DecodeString(s)
		wantOK := err == nil && len(want) == 16 && len(s) == blockKeyLen
		if ok != wantOK {
			t.Fatalf("decode16(%q) = %v, encoding/base64 says %v (%v)", s, ok, wantOK, err)
		}
		if ok && string(got[:]) != string(want) {
			t.Fatalf("decode16(%q) = %x, want %x", s, got, want)
		}
	})
}

// FuzzEqualHex checks equalHex against encoding/hex and strings.EqualFold.
func FuzzEqualHex(f *testing.F) {
	sum := sha1.Sum([]byte("raw"))
	good := hex.EncodeToString(sum[:])
	for _, s := range []string{good, strings.ToUpper(good), good[:39] + "g", good[:39] + "\x10", "", good + "0", good[:38]} {
		f.Add(sum[:], s)
	}
	f.Fuzz(func(t *testing.T, b []byte, sig string) {
		var want [sha1.Size]byte
		copy(want[:], b)
		got := equalHex(&want, sig)
		if exp := strings.EqualFold(sig, hex.EncodeToString(want[:])); got != exp {
			t.Fatalf("equalHex(%x, %q) = %v, want %v", want, sig, got, exp)
		}
	})
}
