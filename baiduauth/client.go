package baiduauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Limits on what is sent and accepted.
const (
	// MaxCodeLen is the longest code [App.Code2Session] sends.
	MaxCodeLen = 256
	// MaxOpenIDLen is the longest openid accepted from a reply. Baidu's
	// sample openid is 26 characters.
	MaxOpenIDLen = 128
	// MaxAppKeyLen is the longest AppKey [New] accepts (real ones are 32
	// characters).
	MaxAppKeyLen = 64
)

// PathCode2Session is the login endpoint's path under the base URL.
const PathCode2Session = "/oauth/jscode2sessionkey"

// opCode2Session is the Op of the login's errors.
const opCode2Session = "jscode2sessionkey"

// App is a client for one Baidu smart program. It implements
// [miniauth.Client] and [miniauth.Decrypter], and is the [miniauth.Apps]
// of its one app. Create it with [New]; it is safe for concurrent use.
type App struct {
	appKey string
	secret string
	cfg    config
	eng    *engine.Client
}

var (
	_ miniauth.Client    = (*App)(nil)
	_ miniauth.Apps      = (*App)(nil)
	_ miniauth.Decrypter = (*App)(nil)
)

// New returns a client for the smart program with the given AppKey and
// AppSecret (the console's 开发设置). Note the AppKey, not the numeric AppID:
// Baidu's login takes the AppKey as client_id and puts it in every
// encrypted payload, and [App.AppID] returns it, so a front end that serves
// several apps sends the AppKey as its appid. An empty or malformed AppKey,
// an empty secret or an option that rejects its argument is an error.
func New(appKey, secret string, opts ...Option) (*App, error) {
	if appKey == "" {
		return nil, errors.New("baiduauth: appKey must not be empty")
	}
	if len(appKey) > MaxAppKeyLen || !printableASCII(appKey) {
		return nil, fmt.Errorf("baiduauth: appKey must be 1 to %d bytes of printable ASCII", MaxAppKeyLen)
	}
	if secret == "" {
		return nil, errors.New("baiduauth: secret must not be empty")
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
	eng, err := engine.New(cfg.Config("baidu", ErrBadResponse, secret))
	if err != nil {
		return nil, err
	}
	return &App{appKey: appKey, secret: secret, cfg: cfg, eng: eng}, nil
}

// String returns "baiduauth.App{AppKey: ...}": never the secret. String,
// GoString and Format have value receivers, so that an App value prints as
// safely as a pointer.
func (a App) String() string { return fmt.Sprintf("baiduauth.App{AppKey: %q}", a.appKey) }

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb.
func (a App) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the AppKey the client was created with: the id Baidu's
// login and payloads know the app by.
func (a *App) AppID() string { return a.appKey }

// Platform returns [miniauth.Baidu].
func (a *App) Platform() miniauth.Platform { return miniauth.Baidu }

// App makes an App the [miniauth.Apps] of its one smart program: a itself
// for its AppKey or "", [ErrUnknownApp] for any other.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

// errorReply is the error envelope of jscode2sessionkey: error and
// error_description (OAuth's), and errno on the newer host.
type errorReply struct {
	Errno            json.Number `json:"errno"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
}

// Failed implements engine.Reply.
func (r *errorReply) Failed() bool {
	return r.Error != "" || (r.Errno != "" && r.Errno != "0")
}

// Err implements engine.Reply. No code of Baidu's is retried: none is
// documented as "busy".
func (r *errorReply) Err(op string, s engine.Scrubber) (bool, error) {
	e := &APIError{Op: op, Code: s.Clean(r.Error), Description: s.Clean(r.ErrorDescription)}
	if n, err := r.Errno.Int64(); err == nil {
		e.Errno = n
	}
	return false, e
}

// code2SessionReply is jscode2sessionkey's reply.
type code2SessionReply struct {
	errorReply
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
}

// Code2Session exchanges the code from swan.login (or
// swan.getLoginCode) for the user's [miniauth.Session]: POST
// /oauth/jscode2sessionkey on spapi.baidu.com, a form of code, client_id
// (the AppKey) and sk (the secret), which answers {openid, session_key}
// (https://smartprogram.baidu.com/docs/develop/api/open/log_Session-Key/,
// also https://www.bookstack.cn/read/smartprogram-20210306/a4bcb54eb96e30d2.md).
// A code is valid for 10 minutes and once.
//
// The session has no UnionID (the login does not send one) and a
// SessionKey of 24 bytes, 32 characters of base64: the key of
// [App.Decrypt]. A code that is empty, over [MaxCodeLen] bytes or not
// printable ASCII is refused without a request ([ErrInvalidCode]). Baidu's
// refusals are [*APIError]s matching [ErrInvalidCode] (invalid_grant),
// [ErrInvalidCredential] (invalid_client) or [ErrNotAllowed]
// (unauthorized_client), whether Baidu sends them with HTTP 200 or, as
// OAuth endpoints do, with a 4xx; a 4xx without such a body, and a reply
// without an openid or a 24-byte session_key, is [ErrBadResponse].
func (a *App) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	const op = opCode2Session
	if code == "" || len(code) > MaxCodeLen || !printableASCII(code) {
		return nil, fmt.Errorf("baiduauth: %s: code must be 1 to %d bytes of printable ASCII: %w", op, MaxCodeLen, ErrInvalidCode)
	}
	var r code2SessionReply
	err := a.eng.Do(ctx, engine.Request{
		Op:     op,
		Method: http.MethodPost,
		Base:   a.cfg.BaseURL,
		Path:   PathCode2Session,
		Form:   url.Values{"code": {code}, "client_id": {a.appKey}, "sk": {a.secret}},
		// An OAuth endpoint may send its refusal ({"error":"invalid_grant"})
		// with HTTP 400: it is read as it is at 200.
		ErrorStatus: true,
		Secrets:     []string{code},
	}, &r)
	if err != nil {
		return nil, err
	}
	if r.OpenID == "" || len(r.OpenID) > MaxOpenIDLen || !printableASCII(r.OpenID) {
		return nil, a.eng.BadReply(op, "no usable openid")
	}
	if CheckSessionKey(r.SessionKey) != nil {
		return nil, a.eng.BadReply(op, "no 24-byte session_key")
	}
	return &miniauth.Session{Platform: miniauth.Baidu, AppID: a.appKey, OpenID: r.OpenID, SessionKey: r.SessionKey}, nil
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
