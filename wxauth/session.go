package wxauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// MaxCodeLen is the longest code [App.Code2Session] sends to WeChat. Real
// codes are 32 characters.
const MaxCodeLen = miniauth.MaxCodeLen

// Session is what code2session returns for a user: the openid (the user's
// id in this mini-program), the unionid (the user's id across the apps of
// one WeChat Open Platform account, when there is one) and the session_key,
// with the platform ([miniauth.WeChat]) and the appid of the mini-program it
// was issued for. It is [miniauth.Session], the type every platform
// returns.
//
// The session_key decrypts the user's data and must stay on the server. A
// Session never shows it: String, GoString, Format (every fmt verb), LogValue
// (log/slog) and encoding/json all leave it out. Read the field itself to
// store it.
type Session = miniauth.Session

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
	return &Session{Platform: miniauth.WeChat, AppID: a.appID, OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
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
