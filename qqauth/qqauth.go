package qqauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/engine"
)

// Limits on what the client sends and accepts.
const (
	// MaxCodeLen is the longest code [App.Code2Session] sends to QQ.
	MaxCodeLen = 256
	// MaxOpenIDLen is the longest openid or unionid accepted from a reply.
	MaxOpenIDLen = 128
	// MaxAppIDLen is the longest appid [New] accepts (QQ's are 10 digits).
	MaxAppIDLen = 64
)

// Ops of the errors of this package ([APIError.Op]).
const (
	opCode2Session = "code2session"
	opToken        = "getToken"
)

// App is a client for one QQ mini-program. It implements [miniauth.Client]
// and the decryption capabilities, and is the [miniauth.Apps] of its one
// app. Create it with [New]; it is safe for concurrent use.
type App struct {
	appID  string
	secret string
	cfg    config
	eng    *engine.Client
	tokens *engine.TokenCache
}

var (
	_ miniauth.Client            = (*App)(nil)
	_ miniauth.Apps              = (*App)(nil)
	_ miniauth.Decrypter         = (*App)(nil)
	_ miniauth.SignatureVerifier = (*App)(nil)
)

// New returns a client for the QQ mini-program with the given appid and app
// secret (QQ's developer console, 开发设置). An empty or malformed appID or
// secret, or an option that rejects its argument, is an error.
func New(appID, secret string, opts ...Option) (*App, error) {
	if !validAppID(appID, MaxAppIDLen) {
		return nil, fmt.Errorf("qqauth: appID must be 1 to %d letters, digits, - or _", MaxAppIDLen)
	}
	if secret == "" || len(secret) > 256 || !printableASCII(secret) {
		return nil, errors.New("qqauth: secret must be 1 to 256 bytes of printable ASCII")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	eng, err := newEngine(&cfg, secret)
	if err != nil {
		return nil, err
	}
	a := &App{appID: appID, secret: secret, cfg: cfg, eng: eng}
	if a.tokens, err = newTokenCache(a); err != nil {
		return nil, err
	}
	return a, nil
}

// String returns "qqauth.App{AppID: ...}": never the secret or a token.
func (a App) String() string { return fmt.Sprintf("qqauth.App{AppID: %q}", a.appID) }

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb.
func (a App) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the mini-program's appid.
func (a *App) AppID() string { return a.appID }

// Platform returns [miniauth.QQ].
func (a *App) Platform() miniauth.Platform { return miniauth.QQ }

// App makes an App the [miniauth.Apps] of its one mini-program: a itself
// for its own appid or "", [miniauth.ErrUnknownApp] for any other.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

type code2SessionReply struct {
	baseReply
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
}

// Code2Session exchanges the code from qq.login for the user's session (GET
// /sns/jscode2session on api.q.qq.com, WeChat's parameters). A code works
// once, for five minutes.
//
// A code that is empty, over [MaxCodeLen] bytes or not printable ASCII is
// refused without a request ([miniauth.ErrInvalidCode]). QQ's refusals are
// [*APIError]s matching the sentinels of the package documentation's
// table; a reply without a usable openid or session_key is
// [miniauth.ErrBadResponse].
func (a *App) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	if !validCode(code) {
		return nil, fmt.Errorf("qqauth: %s: code must be 1 to %d bytes of printable ASCII: %w", opCode2Session, MaxCodeLen, miniauth.ErrInvalidCode)
	}
	var r code2SessionReply
	err := a.do(ctx, engine.Request{
		Op:     opCode2Session,
		Method: http.MethodGet,
		Path:   "/sns/jscode2session",
		Query: map[string]string{
			"appid":      a.appID,
			"secret":     a.secret,
			"js_code":    code,
			"grant_type": "authorization_code",
		},
		Secrets: []string{code},
	}, &r)
	if err != nil {
		return nil, err
	}
	if !validID(r.OpenID) {
		return nil, a.eng.BadReply(opCode2Session, "no usable openid")
	}
	if r.UnionID != "" && !validID(r.UnionID) {
		return nil, a.eng.BadReply(opCode2Session, "unusable unionid")
	}
	if crypto.CheckSessionKey(r.SessionKey) != nil {
		return nil, a.eng.BadReply(opCode2Session, "no valid session_key")
	}
	return &miniauth.Session{Platform: miniauth.QQ, AppID: a.appID, OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
}

// VerifySignature checks that signature is hex(sha1(rawData + session_key)),
// as qq.getUserInfo signs rawData
// (https://q.qq.com/wiki/develop/game/frame/open-ability/signature.html). A
// mismatch matches crypto.ErrSignature.
func (a *App) VerifySignature(sessionKey, rawData, signature string) error {
	if err := crypto.VerifySignature(sessionKey, rawData, signature); err != nil {
		return fmt.Errorf("qqauth: verify signature: %w", err)
	}
	return nil
}

// Decrypt decrypts encryptedData (AES-128-CBC, PKCS#7, keyed by the
// session_key, as WeChat's) with iv, checks that its watermark names this
// app, and unmarshals it into v, a non-nil pointer (such as to a
// [UserInfo]). v is left untouched when the data is refused.
//
// Data that does not decrypt or is not JSON matches crypto.ErrDecrypt, with
// no detail; a watermark of another appid, or none, matches
// [miniauth.ErrWatermark]. Decrypted fields are not authenticated: an openId
// in them must be the session's own.
func (a *App) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	return decrypt(a.appID, sessionKey, encryptedData, iv, v)
}

// UserInfo is the profile in qq.getUserInfo's encryptedData: WeChat's
// fields, watermark included ([miniauth.UserInfo]).
type UserInfo = miniauth.UserInfo

// validCode reports whether code may be sent to QQ.
func validCode(code string) bool {
	return code != "" && len(code) <= MaxCodeLen && printableASCII(code)
}

// validID reports whether an openid or unionid from a reply is usable.
func validID(id string) bool {
	return id != "" && len(id) <= MaxOpenIDLen && printableASCII(id)
}

// validAppID reports whether id is 1 to max letters, digits, '-' or '_':
// what appids are made of, and safe in a token store's key.
func validAppID(id string, max int) bool {
	if id == "" || len(id) > max {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
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
