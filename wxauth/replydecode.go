package wxauth

import (
	"bytes"
	"encoding/json"
)

// DecodeBody decodes jscode2session's reply for the engine: by decodeFast
// when the reply has the common shape of WeChat's answer, and otherwise by
// encoding/json, which has the last word: the fast path gives the same
// result as encoding/json or none (FuzzDecodeFast).
func (r *code2SessionReply) DecodeBody(body []byte) error {
	if r.decodeFast(body) {
		return nil
	}
	*r = code2SessionReply{}
	return json.Unmarshal(body, r)
}

// decodeFast decodes jscode2session's reply: a flat JSON object of ASCII
// strings without escapes and small integers, as WeChat sends it.
func (r *code2SessionReply) decodeFast(body []byte) bool {
	*r = code2SessionReply{}
	s := flatScanner{b: body}
	if !s.begin() {
		return false
	}
	for {
		key, val, str, ok := s.member()
		if !ok {
			return false
		}
		if key == nil {
			return s.end()
		}
		switch string(key) {
		case "openid", "session_key", "unionid", "errmsg":
			if !str {
				return false
			}
			v := string(val)
			switch key[0] {
			case 'o':
				r.OpenID = v
			case 's':
				r.SessionKey = v
			case 'u':
				r.UnionID = v
			default:
				r.ErrMsg = v
			}
		case "errcode":
			n, ok := smallInt(val)
			if str || !ok {
				return false // a string errcode: encoding/json and errCode decide
			}
			r.ErrCode = errCode(n)
		default:
			// encoding/json matches keys case-insensitively: leave a key
			// that would match a field to it.
			for _, name := range [...]string{"openid", "session_key", "unionid", "errmsg", "errcode"} {
				if bytes.EqualFold(key, []byte(name)) {
					return false
				}
			}
		}
	}
}

// flatScanner reads a JSON object whose members are plain strings (ASCII,
// no escapes), integers, true, false or null. Anything else (a nested
// value, an escape, a fraction, a byte above 0x7f) makes it report false,
// for the caller to leave the input to encoding/json.
type flatScanner struct {
	b     []byte
	i     int
	first bool
}

func (s *flatScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// begin reads the opening brace.
func (s *flatScanner) begin() bool {
	s.ws()
	if s.i == len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.first = true
	return true
}

// end reports whether nothing but white space follows the closing brace.
func (s *flatScanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// member reads the next member: its key, its value (a string's contents or
// a literal's text) and whether the value is a string. At the closing brace
// it returns a nil key.
func (s *flatScanner) member() (key, val []byte, str, ok bool) {
	s.ws()
	if s.i == len(s.b) {
		return nil, nil, false, false
	}
	if !s.first {
		switch s.b[s.i] {
		case '}':
			s.i++
			return nil, nil, false, true
		case ',':
			s.i++
			s.ws()
		default:
			return nil, nil, false, false
		}
	} else if s.b[s.i] == '}' {
		s.i++
		return nil, nil, false, true
	}
	s.first = false
	if key, ok = s.str(); !ok {
		return nil, nil, false, false
	}
	s.ws()
	if s.i == len(s.b) || s.b[s.i] != ':' {
		return nil, nil, false, false
	}
	s.i++
	s.ws()
	if s.i == len(s.b) {
		return nil, nil, false, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		val, ok = s.str()
		return key, val, true, ok
	case c == '-' || ('0' <= c && c <= '9'):
		val, ok = s.integer()
	case c == 't':
		val, ok = s.literal("true")
	case c == 'f':
		val, ok = s.literal("false")
	case c == 'n':
		val, ok = s.literal("null")
	default: // an object, an array, or no value at all
		return nil, nil, false, false
	}
	return key, val, false, ok
}

// str reads a string of printable ASCII without escapes and returns its
// contents.
func (s *flatScanner) str() ([]byte, bool) {
	if s.i == len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return nil, false
		}
	}
	return nil, false
}

// integer reads a JSON integer: -?(0|[1-9][0-9]*) and no fraction or
// exponent after it.
func (s *flatScanner) integer() ([]byte, bool) {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - digits
	if n == 0 || (n > 1 && s.b[digits] == '0') {
		return nil, false
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

// literal reads the literal word.
func (s *flatScanner) literal(word string) ([]byte, bool) {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return nil, false
	}
	start := s.i
	s.i += len(word)
	return s.b[start:s.i], true
}

// smallInt parses an integer of at most nine digits (errcodes have five).
func smallInt(b []byte) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
