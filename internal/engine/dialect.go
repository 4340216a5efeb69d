package engine

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What the platforms' error envelopes share: the errcode/errmsg envelope
// of WeChat's server API, which QQ's and WeCom's copy, the cleaning of the
// text a reply carries, and the text of a platform's typed errors. Each
// platform keeps its own table of codes, its exported error types and
// envelopes of other shapes (Kuaishou's result/error_msg, where 1 is
// success); their methods are one call here.

// ErrcodeReply is the errcode/errmsg envelope of WeChat's server API and
// of the platforms that copied it (QQ, WeCom): errcode 0 or absent is
// success, -1 is "system busy, try again". A platform's reply type embeds
// it and adds Err, which builds the platform's typed error:
//
//	type baseReply struct{ engine.ErrcodeReply }
//
//	func (r *baseReply) Err(op string, s engine.Scrubber) (bool, error) {
//		return r.Busy(), &APIError{Op: op, Code: int(r.ErrCode), Msg: s.Clean(r.ErrMsg)}
//	}
type ErrcodeReply struct {
	ErrCode IntCode `json:"errcode"`
	ErrMsg  string  `json:"errmsg"`
}

// Failed reports a non-zero errcode. It allocates nothing.
func (r *ErrcodeReply) Failed() bool { return r.ErrCode != 0 }

// Busy reports errcode -1 (system busy), the one errcode of the envelope
// that is retried.
func (r *ErrcodeReply) Busy() bool { return r.ErrCode == -1 }

// MaxMsgLen caps, in bytes, the text kept from a reply ([CleanMsg]), so
// that a hostile or broken server cannot flood logs through error strings.
const MaxMsgLen = 256

// CleanMsg makes text from a reply safe to print: invalid UTF-8 and
// control characters (newlines, terminal escapes) become U+FFFD, so that
// a hostile reply cannot forge log lines, and the text is cut to
// [MaxMsgLen] bytes on a character boundary. Scrub secrets first
// ([Scrubber.Clean]): cut first, half of a secret could survive.
func CleanMsg(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > MaxMsgLen {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Clean returns text from a reply scrubbed of the call's secrets, then
// cleaned by [CleanMsg]: what a platform's typed error may keep of a
// reply's message.
func (s Scrubber) Clean(text string) string { return CleanMsg(s.Scrub(text)) }

// APIErrorText returns the text of a platform's error reply: the package,
// the API if known, the code under the platform's name for it (codeName:
// "errcode", "result") and the message if any, as in
// "qqauth: code2session: errcode 40029: invalid code".
func APIErrorText(pkg, op, codeName string, code int, msg string) string {
	var b strings.Builder
	b.Grow(len(pkg) + len(op) + len(codeName) + len(msg) + 16)
	b.WriteString(pkg)
	b.WriteString(": ")
	if op != "" {
		b.WriteString(op)
		b.WriteString(": ")
	}
	b.WriteString(codeName)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(code))
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

// StatusText returns the text of a reply of API op whose HTTP status is
// not 200, as in "qqauth: code2session: http status 502".
func StatusText(pkg, op string, status int) string {
	return pkg + ": " + op + ": http status " + strconv.Itoa(status)
}

// IsSentinel reports whether target is the sentinel that table gives
// code: the Is of a platform's typed error.
func IsSentinel(table map[int]error, code int, target error) bool {
	s, ok := table[code]
	return ok && s == target
}
