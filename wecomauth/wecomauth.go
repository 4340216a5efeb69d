package wecomauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/engine"
)

// Limits on what the client sends and accepts.
const (
	// MaxCodeLen is the longest code [App.Code2Session] sends to WeCom.
	MaxCodeLen = 256
	// MaxUserIDLen is the longest userid accepted from a reply (WeCom's
	// are at most 64 bytes; an encrypted userid is longer).
	MaxUserIDLen = 128
	// MaxIDLen is the longest appid or corpid [New] accepts (WeChat's
	// appids and WeCom's corpids are 18 characters).
	MaxIDLen = 48
)

// Ops of the errors of this package ([APIError.Op]).
const (
	opCode2Session = "jscode2session"
	opToken        = "gettoken"
)

// App is a client for one WeChat mini-program opened in WeCom (企业微信),
// whose users log in with wx.qy.login as members of one corp. It
// implements [miniauth.Client] and is the [miniauth.Apps] of its one app.
// Create it with [New]; it is safe for concurrent use.
type App struct {
	appID      string
	corpID     string
	corpSecret string
	cfg        config
	eng        *engine.Client
	tokens     *engine.TokenCache
}

var (
	_ miniauth.Client = (*App)(nil)
	_ miniauth.Apps   = (*App)(nil)
)

// New returns a client for the mini-program appID (its WeChat appid, which
// the front end sends) used in the corp corpID (企业ID, "ww..."), with
// corpSecret, the secret of the WeCom app the mini-program is associated
// with (应用管理 > the app > Secret): WeCom requires the access token of
// jscode2session to come from that app's secret. An empty or malformed
// argument, or an option that rejects its argument, is an error.
func New(appID, corpID, corpSecret string, opts ...Option) (*App, error) {
	if !validID(appID) {
		return nil, fmt.Errorf("wecomauth: appID must be 1 to %d letters, digits, - or _", MaxIDLen)
	}
	if !validID(corpID) {
		return nil, fmt.Errorf("wecomauth: corpID must be 1 to %d letters, digits, - or _", MaxIDLen)
	}
	if !validArg(corpSecret, 256) {
		return nil, errors.New("wecomauth: corpSecret must be 1 to 256 bytes of printable ASCII")
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
	eng, err := newEngine(&cfg, corpSecret)
	if err != nil {
		return nil, err
	}
	a := &App{appID: appID, corpID: corpID, corpSecret: corpSecret, cfg: cfg, eng: eng}
	if a.tokens, err = newTokenCache(a); err != nil {
		return nil, err
	}
	return a, nil
}

// String returns "wecomauth.App{AppID: ..., CorpID: ...}": never the
// secret or a token.
func (a App) String() string {
	return fmt.Sprintf("wecomauth.App{AppID: %q, CorpID: %q}", a.appID, a.corpID)
}

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb.
func (a App) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the mini-program's appid. The same appid may also serve
// WeChat (a [miniauth.AppSet] keys its clients by platform and appid; the
// login body's platform picks).
func (a *App) AppID() string { return a.appID }

// CorpID returns the corp the App serves.
func (a *App) CorpID() string { return a.corpID }

// Platform returns [miniauth.WeCom].
func (a *App) Platform() miniauth.Platform { return miniauth.WeCom }

// App makes an App the [miniauth.Apps] of its one mini-program: a itself
// for its own appid or "", [miniauth.ErrUnknownApp] for any other.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

type code2SessionReply struct {
	baseReply
	CorpID     string `json:"corpid"`
	UserID     string `json:"userid"`
	SessionKey string `json:"session_key"`
}

// Code2Session exchanges the code from wx.qy.login for the member's
// session: GET /cgi-bin/miniprogram/jscode2session with the corp's access
// token, js_code and grant_type=authorization_code
// (https://developer.work.weixin.qq.com/document/path/91507), answered
// {corpid, userid, session_key}. A code works once, for five minutes.
//
// The session's OpenID is the member's userid (企业内唯一, the account the
// corp's admin console shows; encrypted when the corp has not installed the
// mini-program's app), its UnionID is empty. The reply's corpid must be
// this App's: a member of another corp is refused with [ErrOtherCorp].
//
// A code that is empty, over [MaxCodeLen] bytes or not printable ASCII is
// refused without a request ([miniauth.ErrInvalidCode]). A token WeCom
// refuses (40014, 42001) is dropped and the call made once more with a new
// one. WeCom's refusals are [*APIError]s matching the sentinels of the
// package documentation's table; a reply without a usable userid or
// session_key is [miniauth.ErrBadResponse].
func (a *App) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	if !validArg(code, MaxCodeLen) {
		return nil, fmt.Errorf("wecomauth: %s: code must be 1 to %d bytes of printable ASCII: %w", opCode2Session, MaxCodeLen, miniauth.ErrInvalidCode)
	}
	var r code2SessionReply
	err := a.callWithToken(ctx, engine.Request{
		Op:      opCode2Session,
		Method:  http.MethodGet,
		Path:    "/cgi-bin/miniprogram/jscode2session",
		Query:   map[string]string{"js_code": code, "grant_type": "authorization_code"},
		Secrets: []string{code},
	}, &r)
	if err != nil {
		return nil, err
	}
	if !validArg(r.UserID, MaxUserIDLen) {
		return nil, a.eng.BadReply(opCode2Session, "no usable userid")
	}
	if crypto.CheckSessionKey(r.SessionKey) != nil {
		return nil, a.eng.BadReply(opCode2Session, "no valid session_key")
	}
	if r.CorpID != a.corpID {
		return nil, fmt.Errorf("wecomauth: %s: corpid %q: %w", opCode2Session, clip(r.CorpID), ErrOtherCorp)
	}
	return &miniauth.Session{Platform: miniauth.WeCom, AppID: a.appID, OpenID: r.UserID, SessionKey: r.SessionKey}, nil
}

// callWithToken performs req with the corp access token in its query. If
// WeCom refuses that token, it is invalidated (only it) and the call made
// once more with a new one; a new token equal to the refused one is not
// tried.
func (a *App) callWithToken(ctx context.Context, req engine.Request, out engine.Reply) error {
	tok, err := a.tokens.Get(ctx)
	if err != nil {
		return err
	}
	err = a.doWithToken(ctx, req, tok, out)
	if !isTokenError(err) {
		return err
	}
	a.tokens.Invalidate(ctx, tok)
	fresh, ferr := a.tokens.Get(ctx)
	if ferr != nil {
		return fmt.Errorf("%w; then %w", err, ferr)
	}
	if fresh == tok {
		return err
	}
	return a.doWithToken(ctx, req, fresh, out)
}

func (a *App) doWithToken(ctx context.Context, req engine.Request, tok string, out engine.Reply) error {
	q := make(map[string]string, len(req.Query)+1)
	for k, v := range req.Query {
		q[k] = v
	}
	q["access_token"] = tok
	req.Query = q
	req.Secrets = append(append([]string(nil), req.Secrets...), tok)
	return a.do(ctx, req, out)
}

// validArg reports whether s is 1 to max bytes of printable ASCII, no space.
func validArg(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validID reports whether id is 1 to [MaxIDLen] letters, digits, '-' or
// '_': what appids and corpids are made of, and safe in a token store's key.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
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

// clip shortens an id from a reply for an error message.
func clip(s string) string {
	if len(s) > 64 || !validArg(s, 64) {
		return url.QueryEscape(s[:min(len(s), 64)])
	}
	return s
}
