package douyinauth

import (
	"context"
	"fmt"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
)

// Limits of what the client sends and accepts.
const (
	// MaxCodeLen is the longest code or anonymous_code sent to Douyin.
	// Real ones are 32 to about 150 characters.
	MaxCodeLen = 512
	// MaxOpenIDLen is the longest openid, anonymous_openid or unionid
	// accepted from a reply.
	MaxOpenIDLen = 128
)

// code2SessionBody is the JSON body of jscode2session. A code not sent is
// sent as "", as Douyin's own example does.
type code2SessionBody struct {
	AppID         string `json:"appid"`
	Secret        string `json:"secret"`
	Code          string `json:"code"`
	AnonymousCode string `json:"anonymous_code"`
}

type code2SessionReply struct {
	tipsReply
	Data *struct {
		SessionKey      string `json:"session_key"`
		OpenID          string `json:"openid"`
		AnonymousOpenID string `json:"anonymous_openid"`
		UnionID         string `json:"unionid"`
	} `json:"data"`
}

// Code2Session exchanges the code from tt.login for the user's
// [miniauth.Session] (POST developer.toutiao.com/api/apps/v2/jscode2session,
// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/basic-abilities/log-in/code-2-session).
// A code works once. The session has the user's openid, the unionid (which
// differs per host app and per developer) and the session_key.
//
// Only the code is sent: tt.login's anonymousCode is not an identity, see
// [App.Code2SessionAnonymous] and [App.AnonymousOpenID] for it.
//
// A code that is empty, over [MaxCodeLen] bytes or not printable ASCII is
// refused without a request ([ErrInvalidCode]). Douyin's refusals are
// [*APIError]s matching [ErrInvalidCode] (40018: unknown, expired or used),
// [ErrInvalidCredential] (40015, 40017) or none; a reply without an openid
// or a valid session_key is [ErrBadResponse].
func (a *App) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	if err := checkCode(code, ErrInvalidCode); err != nil {
		return nil, err
	}
	s, _, err := a.code2Session(ctx, code, "")
	return s, err
}

// Code2SessionAnonymous exchanges tt.login's code and anonymousCode in one
// call, for moving what an anonymous user did (before logging in to the
// host app) to their account: it returns the user's session and the
// anonymous_openid the anonymousCode stood for ("非匿名下的 anonymous_code
// 用于数据同步"). Both codes work once; both must be valid.
//
// The anonymous openid is returned apart from the [miniauth.Session], whose
// OpenID is always the user's real openid, so that code written against
// [miniauth.Client] never takes an anonymous id for an identity.
func (a *App) Code2SessionAnonymous(ctx context.Context, code, anonymousCode string) (*miniauth.Session, string, error) {
	if err := checkCode(code, ErrInvalidCode); err != nil {
		return nil, "", err
	}
	if err := checkCode(anonymousCode, ErrInvalidCode); err != nil {
		return nil, "", err
	}
	s, anon, err := a.code2Session(ctx, code, anonymousCode)
	if err != nil {
		return nil, "", err
	}
	if !validID(anon) {
		return nil, "", a.eng.BadReply(opCode2Session, "no usable anonymous_openid")
	}
	return s, anon, nil
}

// AnonymousOpenID exchanges the anonymousCode of tt.login (given even to a
// user not logged in to the host app) for the anonymous_openid: an id of the
// device's anonymous user in this app, with no session_key and no unionid.
// It is not an identity to log anyone in with: keep it to carry the
// anonymous user's data over, with [App.Code2SessionAnonymous], once they
// log in. Errors are as [App.Code2Session]'s (40019 for a bad code).
func (a *App) AnonymousOpenID(ctx context.Context, anonymousCode string) (string, error) {
	if err := checkCode(anonymousCode, ErrInvalidCode); err != nil {
		return "", err
	}
	var r code2SessionReply
	err := a.do(ctx, a.code2SessionRequest("", anonymousCode), &r)
	if err != nil {
		return "", err
	}
	if r.Data == nil || !validID(r.Data.AnonymousOpenID) {
		return "", a.eng.BadReply(opCode2Session, "no usable anonymous_openid")
	}
	return r.Data.AnonymousOpenID, nil
}

func (a *App) code2SessionRequest(code, anonymousCode string) request {
	return request{
		op:      opCode2Session,
		base:    a.cfg.BaseURL,
		path:    "/api/apps/v2/jscode2session",
		body:    code2SessionBody{AppID: a.appID, Secret: a.secret, Code: code, AnonymousCode: anonymousCode},
		secrets: []string{code, anonymousCode},
	}
}

// code2Session makes the call with a code (and maybe an anonymousCode) and
// checks the session in the reply.
func (a *App) code2Session(ctx context.Context, code, anonymousCode string) (*miniauth.Session, string, error) {
	var r code2SessionReply
	if err := a.do(ctx, a.code2SessionRequest(code, anonymousCode), &r); err != nil {
		return nil, "", err
	}
	d := r.Data
	switch {
	case d == nil || !validID(d.OpenID):
		return nil, "", a.eng.BadReply(opCode2Session, "no usable openid")
	case d.UnionID != "" && !validID(d.UnionID):
		return nil, "", a.eng.BadReply(opCode2Session, "unusable unionid")
	case crypto.CheckSessionKey(d.SessionKey) != nil:
		return nil, "", a.eng.BadReply(opCode2Session, "no valid session_key")
	}
	return &miniauth.Session{
		Platform:   miniauth.Douyin,
		AppID:      a.appID,
		OpenID:     d.OpenID,
		UnionID:    d.UnionID,
		SessionKey: d.SessionKey,
	}, d.AnonymousOpenID, nil
}

// checkCode refuses, with sentinel, a code that may not be sent to Douyin.
func checkCode(code string, sentinel error) error {
	if code != "" && len(code) <= MaxCodeLen && printableASCII(code) {
		return nil
	}
	return fmt.Errorf("douyinauth: code must be 1 to %d bytes of printable ASCII: %w", MaxCodeLen, sentinel)
}

// validID reports whether an id is one to accept: 1 to [MaxOpenIDLen] bytes
// of printable ASCII.
func validID(id string) bool {
	return id != "" && len(id) <= MaxOpenIDLen && printableASCII(id)
}

// printableASCII reports whether s holds only printable ASCII, no space.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
