package wxauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/redact"
)

// MaxCodeLen is the longest code [App.Code2Session] sends to WeChat. Real
// codes are 32 characters.
const MaxCodeLen = 256

// Session is what code2session returns for a user: the openid (the user's
// id in this mini-program), the unionid (the user's id across the apps of
// one WeChat Open Platform account, when there is one) and the session_key,
// with the appid of the mini-program it was issued for.
//
// The session_key decrypts the user's data and must stay on the server. A
// Session never shows it: String, GoString, Format (every fmt verb), LogValue
// (log/slog) and encoding/json all leave it out. Read the field itself to
// store it.
type Session struct {
	// AppID is the appid of the mini-program the session belongs to: the
	// App's own appid, set by [App.Code2Session]. An openid means something
	// only together with its appid.
	AppID      string `json:"appid,omitempty"`
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid,omitempty"`
	SessionKey string `json:"-"`
}

func (s Session) safe() string {
	key := ""
	if s.SessionKey != "" {
		key = redact.Placeholder
	}
	return fmt.Sprintf("wxauth.Session{AppID: %q, OpenID: %q, UnionID: %q, SessionKey: %q}", s.AppID, s.OpenID, s.UnionID, key)
}

// String returns the session without its key.
func (s Session) String() string { return s.safe() }

// GoString returns the session without its key, for %#v.
func (s Session) GoString() string { return s.safe() }

// Format prints the session without its key, whatever the verb.
func (s Session) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(s.safe())) }

// LogValue returns the session for log/slog without its key.
func (s Session) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 3)
	if s.AppID != "" {
		attrs = append(attrs, slog.String("appid", s.AppID))
	}
	attrs = append(attrs, slog.String("openid", s.OpenID))
	if s.UnionID != "" {
		attrs = append(attrs, slog.String("unionid", s.UnionID))
	}
	return slog.GroupValue(attrs...)
}

type code2SessionReply struct {
	baseReply
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
}

// Code2Session exchanges the code from wx.login for the user's [Session]
// (GET /sns/jscode2session). A code is valid for five minutes and once.
//
// A code that is empty, over [MaxCodeLen] bytes or not printable ASCII is
// refused without a request ([ErrInvalidCode]). WeChat's refusals are
// [*APIError]s matching [ErrInvalidCode], [ErrCodeUsed], [ErrRateLimited],
// [ErrHighRisk] or [ErrInvalidCredential]; a reply without openid or with no
// usable session_key is [ErrBadResponse].
func (a *App) Code2Session(ctx context.Context, code string) (*Session, error) {
	const op = "code2session"
	if err := checkCode(op, code); err != nil {
		return nil, err
	}
	var r code2SessionReply
	err := a.do(ctx, request{
		op:     op,
		method: http.MethodGet,
		path:   "/sns/jscode2session",
		// appid, secret, js_code and grant_type=authorization_code,
		// encoded once in New but for the code.
		rawQuery: a.c2sQuery[0] + url.QueryEscape(code) + a.c2sQuery[1],
		secrets:  []string{code},
	}, &r)
	if err != nil {
		return nil, err
	}
	if !validID(r.OpenID) {
		return nil, badReply(op, "no usable openid")
	}
	if r.UnionID != "" && !validID(r.UnionID) {
		return nil, badReply(op, "unusable unionid")
	}
	if crypto.CheckSessionKey(r.SessionKey) != nil {
		return nil, badReply(op, "no valid session_key")
	}
	return &Session{AppID: a.appID, OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
}

// checkCode refuses, with [ErrInvalidCode] ([ErrInvalidPhoneCode] for a
// phone code), a code that may not be sent to WeChat.
func checkCode(op, code string) error {
	if validCode(code) {
		return nil
	}
	sentinel := ErrInvalidCode
	if op == opGetPhoneNumber {
		sentinel = ErrInvalidPhoneCode
	}
	return fmt.Errorf("wxauth: %s: code must be 1 to %d bytes of printable ASCII: %w", op, MaxCodeLen, sentinel)
}

// validCode reports whether code may be sent to WeChat.
func validCode(code string) bool {
	return code != "" && len(code) <= MaxCodeLen && printableASCII(code)
}

// validID reports whether an openid or unionid is one to accept from a
// reply or a caller: 1 to [MaxOpenIDLen] bytes of printable ASCII. Real ones
// are 28 characters.
func validID(id string) bool {
	return id != "" && len(id) <= MaxOpenIDLen && printableASCII(id)
}

// printableASCII reports whether s holds only printable ASCII, no space: what
// WeChat's codes, openids and tokens are made of.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
