package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/wxmp/miniauth"
)

// readJSONBody reads the JSON object body of a POST to a handler of this
// package into v: at most [MaxLoginBodyLen] bytes, string fields, no field
// named twice. fieldsMsg is the message for a body of the wrong shape.
func readJSONBody(w http.ResponseWriter, r *http.Request, v any, fieldsMsg string) *HTTPError {
	tooLarge := &HTTPError{Status: http.StatusRequestEntityTooLarge, Code: CodeRequestTooLarge,
		Message: "the request body is over 64 KiB"}
	if r.ContentLength > MaxLoginBodyLen {
		return tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxLoginBodyLen))
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return tooLarge
		case r.Context().Err() != nil:
			return canceled(err)
		}
		return invalidRequest("the request body could not be read", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalidRequest(fieldsMsg, nil)
	}
	if err := uniqueKeys(b); err != nil {
		// encoding/json matches keys without regard to case and keeps the
		// last duplicate: a proxy or WAF that reads the first "code" would
		// see another value than this handler. Refuse the ambiguity.
		return invalidRequest("the body must not repeat a field (field names are matched without regard to case)", err)
	}
	return nil
}

// uniqueKeys reports an error when the JSON object b repeats a top-level
// key, comparing keys as encoding/json matches them to struct fields
// ([foldKey]).
func uniqueKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // '{', checked by the caller's Unmarshal
		return err
	}
	seen := make(map[string]bool, 6)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		k := foldKey(key)
		if seen[k] {
			return errors.New("session: repeated field in body")
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// foldKey returns the form of a JSON object key under which encoding/json
// matches it to a struct field: every rune replaced by the smallest rune of
// its simple case-folding orbit (bytes.EqualFold semantics). So "CODE",
// "ſignature" (U+017F, long s) and "to\u212Aen" (U+212A, Kelvin sign) fold
// as "code", "signature" and "token" do; strings.ToLower folds neither of
// the last two.
func foldKey(key string) string {
	out := make([]byte, 0, len(key))
	for _, r := range key {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, byte(r))
			continue
		}
		out = utf8.AppendRune(out, smallestFold(r))
	}
	return string(out)
}

// smallestFold returns the smallest rune of r's simple folding orbit.
func smallestFold(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// validPhoneCode reports whether code has the form of a phone-number button
// code wxauth sends: 1 to [miniauth.MaxCodeLen] bytes of printable ASCII.
func validPhoneCode(code string) bool {
	if code == "" || len(code) > miniauth.MaxCodeLen {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < 0x21 || code[i] > 0x7e {
			return false
		}
	}
	return true
}

// isHexSHA1 reports whether s is 40 hex digits, the form of a sha1 signature.
func isHexSHA1(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func invalidRequest(msg string, err error) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: msg, Err: err}
}

// printable reports whether s is printable ASCII without spaces (the empty
// string is).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
