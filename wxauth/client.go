package wxauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Client is what a login server needs from WeChat. [*App] implements it;
// code that depends on Client can be tested with a fake.
//
// It holds the three calls of every login, no more. Code that also needs
// [App.GetPhoneNumber], [App.CheckSessionKey] or the other calls of App
// declares its own small interface with them (as package session does with
// its SessionKeyChecker), or takes *App and tests against package
// wxauthtest.
//
// Implementations must be safe for concurrent use.
type Client interface {
	// Code2Session exchanges the code from wx.login for the user's session.
	Code2Session(ctx context.Context, code string) (*Session, error)
	// VerifySignature checks the signature WeChat sent beside rawData.
	VerifySignature(sessionKey, rawData, signature string) error
	// Decrypt decrypts encryptedData into v and checks its watermark.
	Decrypt(sessionKey, encryptedData, iv string, v any) error
}

// App is a client for one mini-program's WeChat APIs. It implements [Client].
// Create it with [New]; it is safe for concurrent use.
type App struct {
	appID  string
	secret string
	cfg    config
	// eng is the request loop (retries, timeouts, body limit, redaction)
	// every call goes through; a reply type must keep no slice of the
	// body it is decoded from (see engine.Reply).
	eng    *engine.Client
	tokens *engine.TokenCache
	// c2sQuery is jscode2session's query around the code: its parameters
	// in url.Values.Encode order, the code going between the two parts.
	c2sQuery [2]string
}

var (
	_ Client                     = (*App)(nil)
	_ miniauth.Client            = (*App)(nil)
	_ miniauth.Apps              = (*App)(nil)
	_ miniauth.Decrypter         = (*App)(nil)
	_ miniauth.SignatureVerifier = (*App)(nil)
	_ miniauth.PhoneExchanger    = (*App)(nil)
)

// New returns a client for the mini-program with the given appid and app
// secret. An empty appID or secret, or an option that rejects its argument,
// is an error.
func New(appID, secret string, opts ...Option) (*App, error) {
	if appID == "" {
		return nil, errors.New("wxauth: appID must not be empty")
	}
	if secret == "" {
		return nil, errors.New("wxauth: secret must not be empty")
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
	hc := cfg.httpClient
	if cfg.apiSecurity != nil { // a layer around the transport, for the paths it wraps
		var c http.Client
		if hc != nil {
			c = *hc
		}
		if c.Transport == nil {
			c.Transport = engine.DefaultTransport()
		}
		c.Transport = newSecureTransport(cfg.apiSecurity, appID, cfg.baseURL, c.Transport, cfg.now)
		hc = &c
	}
	if cfg.classicToken && cfg.tokenSource != nil {
		return nil, errors.New("wxauth: WithClassicToken and WithTokenSource exclude each other")
	}
	eng, err := engine.New(engine.Config{
		Package:        "wxauth",
		Upstream:       "wechat",
		HTTPClient:     hc,
		Timeout:        cfg.timeout,
		Retries:        cfg.retries,
		BackoffBase:    cfg.backoffBase,
		BackoffLimit:   cfg.backoffLimit,
		Logger:         cfg.logger,
		Secrets:        []string{secret},
		ErrBadResponse: ErrBadResponse,
		Observer:       cfg.observer,
		StatusError: func(op string, status int) error {
			return &StatusError{Op: op, StatusCode: status}
		},
	})
	if err != nil {
		return nil, err
	}
	a := &App{appID: appID, secret: secret, cfg: cfg, eng: eng}
	a.c2sQuery = [2]string{
		"appid=" + url.QueryEscape(appID) + "&grant_type=authorization_code&js_code=",
		"&secret=" + url.QueryEscape(secret),
	}
	if a.tokens, err = newTokenCache(a); err != nil {
		return nil, err
	}
	return a, nil
}

// newTokenCache builds a's access-token cache from its options: WeChat's
// renewal rule is the engine's default (stable_token renews in the last
// five minutes), and a classic token fails closed when the store fails.
func newTokenCache(a *App) (*engine.TokenCache, error) {
	cfg := &a.cfg
	src := cfg.tokenSource
	if src == nil {
		src = wechatSource{app: a, classic: cfg.classicToken}
	}
	return a.eng.NewTokenCache(engine.TokenConfig{
		Key:        a.appID,
		Source:     src,
		Store:      cfg.tokenStore,
		FailClosed: cfg.classicToken,
		Now:        cfg.now,
	})
}

// String returns "wxauth.App{AppID: ...}": never the secret or a token.
// String, GoString and Format have value receivers, so that an App value
// (a copy, or *app printed) is as safe to print as a pointer.
func (a App) String() string { return fmt.Sprintf("wxauth.App{AppID: %q}", a.appID) }

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb, so that no fmt verb shows the
// secret or the access token.
func (a App) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the appid the client was created with.
func (a *App) AppID() string { return a.appID }

// Platform returns [miniauth.WeChat].
func (a *App) Platform() miniauth.Platform { return miniauth.WeChat }

// App makes an App the [miniauth.Apps] of its one mini-program: it returns
// a itself for its own appid or for "", and an error matching
// [ErrUnknownApp] for any other, so that session.LoginHandler(app, m) serves
// one app.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

// request describes one call to a WeChat API, under the App's base URL.
type request struct {
	op     string            // API name for errors and logs, e.g. "code2session"
	method string            // http.MethodGet or http.MethodPost
	path   string            // e.g. "/sns/jscode2session"
	query  map[string]string // query parameters (may carry secrets)
	// rawQuery is the query already encoded, for the hot path of
	// Code2Session; when set, query is not read.
	rawQuery string
	body     any // JSON body for POST, or nil
	// secrets are values that must never reach an error or a log line.
	secrets []string
}

// reply is implemented by every reply struct through an embedded baseReply.
type reply = engine.Reply

// baseReply holds the errcode and errmsg every WeChat reply may carry:
// WeChat's error envelope, for the engine.
type baseReply struct{ engine.ErrcodeReply }

// Err returns the reply's [*APIError]; errcode -1 (system busy) is retried.
func (r *baseReply) Err(op string, s engine.Scrubber) (retry bool, err error) {
	return r.Busy(), newAPIError(op, int(r.ErrCode), r.ErrMsg, s)
}

// errCode decodes an errcode sent as a JSON number or a numeric string.
type errCode = engine.IntCode

// do performs req under the App's base URL with the engine's retries and
// decodes the reply into out. It returns an *APIError for a non-zero
// errcode.
func (a *App) do(ctx context.Context, req request, out reply) error {
	return a.eng.Do(ctx, engine.Request{
		Op:       req.op,
		Method:   req.method,
		Base:     a.cfg.baseURL,
		Path:     req.path,
		Query:    req.query,
		RawQuery: req.rawQuery,
		JSON:     req.body,
		Secrets:  req.secrets,
	}, out)
}

// decodeReply decodes body into out as the engine does: by out's own
// DecodeBody when it has one, by encoding/json otherwise.
func decodeReply(body []byte, out reply) error { return engine.Decode(body, out) }

// badReply returns an error matching [ErrBadResponse] for a reply of op that
// cannot be used, saying why (never quoting the reply: it may hold secrets).
func badReply(op, why string) error {
	return &engine.ReplyError{Package: "wxauth", Upstream: "wechat", Op: op, Why: why, Sentinel: ErrBadResponse}
}
