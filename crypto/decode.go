package crypto

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
)

// The lookup table of decode16: the value of each byte as a standard base64
// character, 0xff for a byte that is none. It is a constant string, so that
// nothing at package level can change; a test rebuilds it from the
// alphabet.

// base64Values maps a byte to its value in the standard base64 alphabet.
const base64Values = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x3e\xff\xff\xff\x3f" +
	"\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\xff\xff\xff\xff\xff\xff" +
	"\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e" +
	"\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\xff\xff\xff\xff\xff" +
	"\xff\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28" +
	"\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// decode16 decodes standard base64 text of exactly 16 bytes ("...==", the
// unused low bits of the last character zero, as base64's Strict mode
// demands) into dst without allocating. It reports false for anything else.
func decode16(dst *[16]byte, s string) bool {
	if len(s) != blockKeyLen || s[22] != '=' || s[23] != '=' {
		return false
	}
	var bad byte // a 0xff in the mix marks a character outside the alphabet
	for g := range 5 {
		a, b := base64Values[s[4*g]], base64Values[s[4*g+1]]
		c, d := base64Values[s[4*g+2]], base64Values[s[4*g+3]]
		bad |= a | b | c | d
		dst[3*g] = a<<2 | b>>4
		dst[3*g+1] = b<<4 | c>>2
		dst[3*g+2] = c<<6 | d
	}
	a, b := base64Values[s[20]], base64Values[s[21]]
	bad |= a | b
	dst[15] = a<<2 | b>>4
	return bad&0xc0 == 0 && b&0x0f == 0
}

// equalHex reports whether the hex text sig (either case) is want, in time
// that depends on neither want nor the value of sig.
//
// It compares the lower-case hex of want with sig eight characters at a
// time: a character c matches the hex digit h when c|0x20 == h, except
// that for a decimal digit h the 0x20 bit must be set in c already (so
// that 0x10-0x19 do not pass for '0'-'9'); a letter h (bit 0x40 set) takes
// either case.
func equalHex(want *[sha1.Size]byte, sig string) bool {
	if len(sig) != 2*len(want) {
		return false
	}
	var hx [2 * sha1.Size]byte
	hex.Encode(hx[:], want[:])
	const bit5, bit6 = 0x2020202020202020, 0x4040404040404040
	var diff uint64
	for i := 0; i < len(hx); i += 8 {
		c := le64(sig[i : i+8])
		h := binary.LittleEndian.Uint64(hx[i : i+8])
		diff |= (c | bit5) ^ h | ^(c|(h&bit6)>>1)&bit5
	}
	return subtle.ConstantTimeEq(int32(uint32(diff)|uint32(diff>>32)), 0) == 1
}

// le64 reads the first 8 bytes of s as a little-endian uint64.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
