package kuaishouauth

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
	// MaxCodeLen is the longest code [App.Code2Session] sends to Kuaishou.
	MaxCodeLen = 256
	// MaxOpenIDLen is the longest open_id or union_id accepted from a reply.
	MaxOpenIDLen = 128
	// MaxAppIDLen is the longest app_id [New] accepts (Kuaishou's are
	// "ks" and 18 digits).
	MaxAppIDLen = 64
)

// Ops of the errors of this package ([APIError.Op]).
const (
	opCode2Session = "code2session"
	opToken        = "access_token"
)

// App is a client for one Kuaishou mini-program. It implements
// [miniauth.Client] and the decryption capabilities, and is the
// [miniauth.Apps] of its one app. Create it with [New]; it is safe for
// concurrent use.
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

// New returns a client for the Kuaishou mini-program with the given app_id
// and app_secret (Kuaishou's developer console). An empty or malformed
// appID or secret, or an option that rejects its argument, is an error.
func New(appID, secret string, opts ...Option) (*App, error) {
	if !validAppID(appID, MaxAppIDLen) {
		return nil, fmt.Errorf("kuaishouauth: appID must be 1 to %d letters, digits, - or _", MaxAppIDLen)
	}
	if secret == "" || len(secret) > 256 || !printableASCII(secret) {
		return nil, errors.New("kuaishouauth: secret must be 1 to 256 bytes of printable ASCII")
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

// String returns "kuaishouauth.App{AppID: ...}": never the secret or a token.
func (a App) String() string { return fmt.Sprintf("kuaishouauth.App{AppID: %q}", a.appID) }

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb.
func (a App) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the mini-program's app_id.
func (a *App) AppID() string { return a.appID }

// Platform returns [miniauth.Kuaishou].
func (a *App) Platform() miniauth.Platform { return miniauth.Kuaishou }

// App makes an App the [miniauth.Apps] of its one mini-program: a itself
// for its own app_id or "", [miniauth.ErrUnknownApp] for any other.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

type code2SessionReply struct {
	baseReply
	OpenID     string `json:"open_id"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"union_id"`
}

// Code2Session exchanges the code from ks.login for the user's session:
// POST /oauth2/mp/code2session on open.kuaishou.com with the form app_id,
// app_secret and js_code, answered {"result":1,"open_id","session_key"}
// (the shape Kuaishou's SDKs agree on; Kuaishou's page,
// https://mp.kuaishou.com/docs/develop/server/code2Session.html, could not
// be read). A code works once.
//
// A code that is empty, over [MaxCodeLen] bytes or not printable ASCII is
// refused without a request ([miniauth.ErrInvalidCode]). Kuaishou's
// refusals are [*APIError]s matching the sentinels of the package
// documentation's table; a reply without a usable open_id or session_key
// is [miniauth.ErrBadResponse]. A union_id, if Kuaishou sends one, becomes
// the session's UnionID.
func (a *App) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	if !validCode(code) {
		return nil, fmt.Errorf("kuaishouauth: %s: code must be 1 to %d bytes of printable ASCII: %w", opCode2Session, MaxCodeLen, miniauth.ErrInvalidCode)
	}
	var r code2SessionReply
	err := a.do(ctx, engine.Request{
		Op:      opCode2Session,
		Method:  http.MethodPost,
		Path:    "/oauth2/mp/code2session",
		Form:    url.Values{"app_id": {a.appID}, "app_secret": {a.secret}, "js_code": {code}},
		Secrets: []string{code},
	}, &r)
	if err != nil {
		return nil, err
	}
	if !validID(r.OpenID) {
		return nil, a.eng.BadReply(opCode2Session, "no usable open_id")
	}
	if r.UnionID != "" && !validID(r.UnionID) {
		return nil, a.eng.BadReply(opCode2Session, "unusable union_id")
	}
	if crypto.CheckSessionKey(r.SessionKey) != nil {
		return nil, a.eng.BadReply(opCode2Session, "no valid session_key")
	}
	return &miniauth.Session{Platform: miniauth.Kuaishou, AppID: a.appID, OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
}

// validCode reports whether code may be sent to Kuaishou.
func validCode(code string) bool {
	return code != "" && len(code) <= MaxCodeLen && printableASCII(code)
}

// validID reports whether an id from a reply is usable.
func validID(id string) bool {
	return id != "" && len(id) <= MaxOpenIDLen && printableASCII(id)
}

// validAppID reports whether id is 1 to max letters, digits, '-' or '_':
// what app_ids are made of, and safe in a token store's key.
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
