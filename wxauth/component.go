package wxauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
	"github.com/wxmp/miniauth/internal/redact"
)

// Component is a WeChat third-party platform (第三方平台, "component"): an
// agency's account on WeChat's Open Platform that logs in the users of
// every mini-program that authorized it, without their app secrets. Create
// it with [NewComponent]; it is safe for concurrent use.
//
// It is a [miniauth.Apps]: [Component.App] gives the [AuthorizerApp] of an
// authorized mini-program, whose Code2Session calls
// /sns/component/jscode2session with the component_access_token, so that
// session.LoginHandler(component, manager) serves every authorizer (the
// login body's appid picks the app). The component_access_token is minted
// from the component_verify_ticket that WeChat pushes to
// [Component.TicketHandler] every ten minutes; both are kept in the
// [TokenStore] given with [WithTokenStore], which the instances of a fleet
// share, so that the instance that received the push is not the only one
// that can log users in, and one request per token lifetime mints the
// token for the whole fleet. WeChat's pages do not say whether minting a
// component or authorizer token retires the one before (as /cgi-bin/token
// does); a Component assumes it does, and so, while the store is down, an
// instance keeps using the tokens it holds until they expire but mints
// none of its own, as [WithClassicToken] does.
//
// References: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html,
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html,
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/others/WeChat_login.html.
type Component struct {
	appID  string
	secret string
	token  string // the message-check Token of the component's settings
	aesKey []byte // AESKey = base64(EncodingAESKey + "=")
	// app carries the requests: the component's appid and secret, its
	// options, its HTTP client and retries. Its own access-token cache is
	// never used.
	app    *App
	opts   componentOptions
	store  TokenStore
	tokens *engine.TokenCache // the component_access_token
	// st is the mutable state, behind a pointer so that a Component value
	// stays free of locks (and prints as safely as a pointer).
	st *componentState
}

// componentState is what a [Component] changes after it is made.
type componentState struct {
	// ticket is the newest component_verify_ticket this process received,
	// for when the store cannot be read.
	ticket atomic.Pointer[Token]

	mu          sync.Mutex
	authorizers map[string]*App // authorizer appid -> client with its token cache
}

var _ miniauth.Apps = (*Component)(nil)

// Lifetimes and limits of the component's credentials.
const (
	// ticketTTL is how long a component_verify_ticket stays valid after
	// WeChat pushed it ("component_verify_ticket 的有效时间为12小时"): a
	// component keeps minting tokens from the last ticket it received
	// while pushes stall for less than that.
	ticketTTL = 12 * time.Hour
	// maxTicketLen caps a ticket taken from a push.
	maxTicketLen = 512
	// maxAppIDLen caps an appid, a component's or an authorizer's. Real
	// appids are 18 characters ("wx" and 16 hex digits).
	maxAppIDLen = 64
)

// Keys of the component's entries in its [TokenStore]. An appid never
// holds a colon, so none of them is the key of an [App]'s access token.
func componentTokenKey(componentAppID string) string { return "component:" + componentAppID }

func ticketKey(componentAppID string) string { return "component_verify_ticket:" + componentAppID }

func authorizerTokenKey(componentAppID, authorizerAppID string) string {
	return "component:" + componentAppID + ":authorizer:" + authorizerAppID
}

// Errors of a [Component], for [errors.Is].
var (
	// ErrNoTicket means the component has no valid component_verify_ticket
	// to mint its component_access_token from: WeChat has pushed none to
	// [Component.TicketHandler] in the last 12 hours (to this instance, or
	// through the shared [TokenStore]), or WeChat refused the one it has
	// (errcode 61005 expired, 61006 invalid). Logins fail until the next
	// push arrives; WeChat pushes every ten minutes, and at once when the
	// platform is published (全网发布).
	ErrNoTicket = errors.New("wxauth: component: no valid component_verify_ticket yet")
	// ErrNoRefreshToken means the component has no authorizer_refresh_token
	// for a mini-program, so it cannot mint the mini-program's
	// authorizer_access_token: there is no [WithRefreshTokens], or its
	// store has no token for the appid. An operator must fix it, so it
	// matches [ErrNotAllowed] too (session.LoginHandler answers 500 and
	// logs it at Error).
	ErrNoRefreshToken = fmt.Errorf("wxauth: component: no authorizer_refresh_token for this app: %w", ErrNotAllowed)
)

// componentSentinels maps the third-party platform's errcodes to the
// sentinel they match, on top of [APIError]'s own table. Codes from
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
// and https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/others/WeChat_login.html.
var componentSentinels = map[int]error{
	61003: ErrUnknownApp,        // component is not authorized by this account
	61004: ErrNotAllowed,        // access clientip is not registered
	61005: ErrNoTicket,          // component ticket is expired
	61006: ErrNoTicket,          // component ticket is invalid
	61011: ErrInvalidCredential, // invalid component
	61023: ErrInvalidCredential, // refresh_token is invalid
}

// componentErr makes an [*APIError] of a component call match the
// sentinel of its third-party platform errcode too.
func componentErr(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	if s, ok := componentSentinels[ae.Code]; ok {
		return &sentinelErr{err: err, sentinel: s}
	}
	return err
}

// sentinelErr is err that also matches sentinel, with err's text.
type sentinelErr struct {
	err      error
	sentinel error
}

func (e *sentinelErr) Error() string   { return e.err.Error() }
func (e *sentinelErr) Unwrap() []error { return []error{e.err, e.sentinel} }

// NewComponent returns the client of the third-party platform with the
// given appid and appsecret, and the message-check Token and EncodingAESKey
// of its settings (消息校验Token, 消息加解密Key), with which WeChat signs and
// encrypts its pushes.
//
// It takes the options of [New] (WithBaseURL, WithHTTPClient, WithTimeout,
// WithRetry, WithBackoff, WithLogger, WithClock and, for a fleet,
// WithTokenStore) and its own: [WithAuthorizerCheck], [WithRefreshTokens],
// [WithComponentEvents], [WithPreviousEncodingAESKey]. WithClassicToken and
// WithTokenSource are refused (the component's token comes from its
// ticket), and so is WithAPISecurity (its keys are one mini-program's).
//
// An empty or malformed appid, an empty secret or token, or an
// EncodingAESKey that is not 43 characters of base64 decoding to 32 bytes,
// is an error (which never quotes the secret, the token or the key).
func NewComponent(componentAppID, componentSecret, token, encodingAESKey string, opts ...Option) (*Component, error) {
	if !validAppID(componentAppID) {
		return nil, fmt.Errorf("wxauth: component appid must be 1 to %d letters, digits, - or _", maxAppIDLen)
	}
	if componentSecret == "" {
		return nil, errors.New("wxauth: component secret must not be empty")
	}
	if token == "" || len(token) > 128 {
		return nil, errors.New("wxauth: component message token must be 1 to 128 bytes")
	}
	key, err := decodeAESKey(encodingAESKey)
	if err != nil {
		return nil, err
	}
	mark := func(c *config) error {
		c.component = &componentOptions{}
		return nil
	}
	app, err := New(componentAppID, componentSecret, append([]Option{mark}, opts...)...)
	if err != nil {
		return nil, err
	}
	if app.cfg.classicToken || app.cfg.tokenSource != nil {
		return nil, errors.New("wxauth: WithClassicToken and WithTokenSource are options of New, not of NewComponent")
	}
	if app.cfg.apiSecurity != nil {
		// Its keys are one mini-program's, and its transport signs for one
		// appid: a component calls for many.
		return nil, errors.New("wxauth: WithAPISecurity is an option of New, not of NewComponent")
	}
	if app.cfg.tokenStore == nil {
		app.cfg.tokenStore = miniauth.NewMemoryTokenStore(miniauth.MemoryTokenStoreClock(app.cfg.now))
	}
	c := &Component{
		appID:  componentAppID,
		secret: componentSecret,
		token:  token,
		aesKey: key,
		app:    app,
		opts:   *app.cfg.component,
		store:  app.cfg.tokenStore,
		st:     &componentState{authorizers: make(map[string]*App)},
	}
	// Each api_component_token call is taken to mint a new token and
	// retire the one before, as /cgi-bin/token does (WeChat's page does not
	// say): like a classic token, it is not fetched without the store.
	if c.tokens, err = newKeyedCache(app, componentTokenKey(componentAppID), componentSource{c: c}, true); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeAESKey returns the AESKey of an EncodingAESKey: 43 characters of
// base64 that, with "=" appended, decode to 32 bytes.
func decodeAESKey(k string) ([]byte, error) {
	const msg = "wxauth: EncodingAESKey must be 43 characters of base64 that decode to 32 bytes"
	if len(k) != 43 {
		return nil, errors.New(msg)
	}
	key, err := base64.StdEncoding.DecodeString(k + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New(msg)
	}
	return key, nil
}

// validAppID reports whether id has the shape of an appid: 1 to
// maxAppIDLen letters, digits, '-' or '_' (so never a colon or a brace,
// which token-store keys reserve).
func validAppID(id string) bool {
	if id == "" || len(id) > maxAppIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// newKeyedCache returns a token cache of a's settings whose tokens come
// from src and are shared in a's store under key.
func newKeyedCache(a *App, key string, src TokenSource, failClosed bool) (*engine.TokenCache, error) {
	return a.eng.NewTokenCache(engine.TokenConfig{
		Key:        key,
		Source:     src,
		Store:      a.cfg.tokenStore,
		FailClosed: failClosed,
		Now:        a.cfg.now,
	})
}

// Format prints "wxauth.Component{AppID: ...}" whatever the verb (%v, %+v,
// %#v, %s...): never the secret, the token, the EncodingAESKey, a ticket
// or an access token.
func (c Component) Format(f fmt.State, verb rune) {
	_, _ = fmt.Fprintf(f, "wxauth.Component{AppID: %q}", c.appID)
}

// AppID returns the component's appid.
func (c *Component) AppID() string { return c.appID }

// App returns the client of the authorized mini-program appID. A
// component serves many apps, so "" is refused, as is an appid that is
// malformed or that the [WithAuthorizerCheck] check says has not
// authorized the component: with an error matching [ErrUnknownApp], before
// any request. An error of the check itself is returned as it is.
func (c *Component) App(ctx context.Context, appID string) (miniauth.Client, error) {
	a, err := c.Authorizer(ctx, appID)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Authorizer is [Component.App] with the concrete type of its client.
func (c *Component) Authorizer(ctx context.Context, appID string) (*AuthorizerApp, error) {
	if appID == "" {
		return nil, fmt.Errorf("wxauth: component serves many apps and no appid was given: %w", ErrUnknownApp)
	}
	if !validAppID(appID) {
		return nil, fmt.Errorf("wxauth: component: malformed appid: %w", ErrUnknownApp)
	}
	if check := c.opts.authorized; check != nil {
		ok, err := check(ctx, appID)
		if err != nil {
			return nil, fmt.Errorf("wxauth: component: authorizer check of %q: %w", appID, err)
		}
		if !ok {
			return nil, fmt.Errorf("wxauth: component: app %q has not authorized the component: %w", appID, ErrUnknownApp)
		}
	}
	return &AuthorizerApp{c: c, shell: &App{appID: appID, cfg: c.app.cfg}}, nil
}

// AccessToken returns the component_access_token, for calling third-party
// platform APIs this package does not wrap (as their component_access_token
// query parameter). It is cached and shared as [App.AccessToken] is, minted
// from the newest ticket with POST /cgi-bin/component/api_component_token,
// and fails with [ErrNoTicket] while there is no ticket.
//
// When WeChat refuses the token (errcode 40001, 40014 or 42001), report it
// with [Component.InvalidateAccessToken] before asking for a new one.
func (c *Component) AccessToken(ctx context.Context) (string, error) {
	tok, err := c.tokens.Get(ctx)
	return tok, componentErr(err)
}

// InvalidateAccessToken tells the component that WeChat refused the
// component_access_token accessToken; it is dropped from memory and from the
// store if it is still the current one, as [App.InvalidateAccessToken] does.
func (c *Component) InvalidateAccessToken(ctx context.Context, accessToken string) {
	c.tokens.Invalidate(ctx, accessToken)
}

// call performs req with the component_access_token in its query. If
// WeChat refuses that token, it is dropped (only it) and the call is
// retried once with a new one, as [App]'s calls do with theirs.
func (c *Component) call(ctx context.Context, req request, out reply) error {
	return componentErr(c.tokens.Call(ctx, isTokenError, func(tok string) error {
		return c.callWith(ctx, req, tok, out)
	}))
}

func (c *Component) callWith(ctx context.Context, req request, tok string, out reply) error {
	q := maps.Clone(req.query)
	if q == nil {
		q = make(map[string]string, 1)
	}
	q["component_access_token"] = tok
	req.query = q
	req.secrets = append(slices.Clip(req.secrets), tok)
	return c.app.do(ctx, req, out)
}

// componentSource mints component_access_tokens from the newest ticket.
type componentSource struct{ c *Component }

type componentTokenBody struct {
	ComponentAppID     string `json:"component_appid"`
	ComponentAppSecret string `json:"component_appsecret"`
	Ticket             string `json:"component_verify_ticket"`
}

type componentTokenReply struct {
	baseReply
	ComponentAccessToken string `json:"component_access_token"`
	ExpiresIn            *int64 `json:"expires_in"`
}

// Token calls POST /cgi-bin/component/api_component_token.
func (s componentSource) Token(ctx context.Context) (*Token, error) {
	c := s.c
	ticket, err := c.currentTicket(ctx)
	if err != nil {
		return nil, err
	}
	const op = "api_component_token"
	var r componentTokenReply
	err = c.app.do(ctx, request{
		op:      op,
		method:  http.MethodPost,
		path:    "/cgi-bin/component/api_component_token",
		body:    componentTokenBody{ComponentAppID: c.appID, ComponentAppSecret: c.secret, Ticket: ticket},
		secrets: []string{ticket},
	}, &r)
	if err != nil {
		return nil, componentErr(err)
	}
	return tokenFromReply(op, &tokenReply{AccessToken: r.ComponentAccessToken, ExpiresIn: r.ExpiresIn}, c.app.cfg.now())
}

// currentTicket returns the newest valid ticket: the store's, or this
// process's own when the store has none or cannot be read.
func (c *Component) currentTicket(ctx context.Context) (string, error) {
	now := c.app.cfg.now()
	var best *Token
	if t := c.st.ticket.Load(); t != nil && now.Before(t.ExpiresAt) {
		best = t
	}
	st, err := c.store.Load(ctx, ticketKey(c.appID))
	if err != nil {
		c.app.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "wxauth: component: reading the ticket from the token store failed; using this instance's own",
			slog.String("error", err.Error()))
	} else if st != nil && validTicket(st.AccessToken) && now.Before(st.ExpiresAt) &&
		(best == nil || st.IssuedAt.After(best.IssuedAt)) {
		best = st
	}
	if best == nil {
		return "", ErrNoTicket
	}
	if age := now.Sub(best.IssuedAt); age > staleTicketAge {
		// Called once per token lifetime: a pointer for the operator
		// before the ticket runs out.
		c.app.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "wxauth: component: no ticket pushed lately; check the authorization event URL (WeChat pushes every ten minutes)",
			slog.Duration("ticket_age", age.Round(time.Second)), slog.Time("ticket_expires_at", best.ExpiresAt))
	}
	return best.AccessToken, nil
}

// staleTicketAge is the age of the newest ticket past which minting a
// token from it is logged at Warn: WeChat pushes every ten minutes, so an
// hour without one means the pushes are not arriving.
const staleTicketAge = time.Hour

// validTicket reports whether t may be used as a component_verify_ticket.
func validTicket(t string) bool {
	return t != "" && len(t) <= maxTicketLen && printableASCII(t)
}

// RefreshTokenStore supplies the authorizer_refresh_token of each
// mini-program that authorized a [Component]: the long-lived credential
// from which the component mints the mini-program's
// authorizer_access_token. The app keeps these in its own database (they
// come from [Component.QueryAuth] when a mini-program authorizes the
// component) and implements this interface on it; give it to
// [NewComponent] with [WithRefreshTokens].
//
// RefreshToken returns the appid's refresh token, or "" and no error when
// there is none (the app never authorized, or withdrew). SaveRefreshToken
// stores a refresh token that WeChat handed out in place of the previous
// one (WeChat keeps it unchanged until the app authorizes again, but the
// reply of every refresh carries it, and a changed one is saved). Both are
// called only when an authorizer_access_token is minted (once per token
// lifetime and fleet), not on every call. Implementations must be safe for
// concurrent use and must not put the token in an error.
type RefreshTokenStore interface {
	RefreshToken(ctx context.Context, authorizerAppID string) (string, error)
	SaveRefreshToken(ctx context.Context, authorizerAppID, refreshToken string) error
}

// authorizerApp returns the client of appID that holds its
// authorizer_access_token cache, made on first use. An appid without a
// refresh token gets no cache (so that appids a client makes up cannot
// grow the map).
func (c *Component) authorizerApp(ctx context.Context, appID string) (*App, error) {
	c.st.mu.Lock()
	a := c.st.authorizers[appID]
	c.st.mu.Unlock()
	if a != nil {
		return a, nil
	}
	if c.opts.refreshTokens == nil {
		return nil, fmt.Errorf("wxauth: component: app %q: no WithRefreshTokens: %w", appID, ErrNoRefreshToken)
	}
	rt, err := c.opts.refreshTokens.RefreshToken(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("wxauth: component: app %q: reading its refresh token: %w", appID, err)
	}
	if rt == "" {
		return nil, fmt.Errorf("wxauth: component: app %q: %w", appID, ErrNoRefreshToken)
	}
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if a := c.st.authorizers[appID]; a != nil {
		return a, nil
	}
	// The client carries the component's requests; its secret field holds
	// the component secret only so that no error can show it.
	a = &App{appID: appID, secret: c.secret, cfg: c.app.cfg, eng: c.app.eng}
	// A refresh through api_authorizer_token is taken to retire the
	// previous token, as a classic token is: not fetched without the store.
	tokens, err := newKeyedCache(a, authorizerTokenKey(c.appID, appID), authorizerSource{c: c, appID: appID}, true)
	if err != nil {
		return nil, err
	}
	a.tokens = tokens
	c.st.authorizers[appID] = a
	return a, nil
}

// authorizerSource mints an authorizer's access tokens from its refresh
// token (POST /cgi-bin/component/api_authorizer_token,
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html).
type authorizerSource struct {
	c     *Component
	appID string
}

type authorizerTokenBody struct {
	ComponentAppID  string `json:"component_appid"`
	AuthorizerAppID string `json:"authorizer_appid"`
	RefreshToken    string `json:"authorizer_refresh_token"`
}

type authorizerTokenReply struct {
	baseReply
	AccessToken  string `json:"authorizer_access_token"`
	ExpiresIn    *int64 `json:"expires_in"`
	RefreshToken string `json:"authorizer_refresh_token"`
}

func (s authorizerSource) Token(ctx context.Context) (*Token, error) {
	c := s.c
	store := c.opts.refreshTokens
	rt, err := store.RefreshToken(ctx, s.appID)
	if err != nil {
		return nil, fmt.Errorf("wxauth: component: app %q: reading its refresh token: %w", s.appID, err)
	}
	if rt == "" {
		return nil, fmt.Errorf("wxauth: component: app %q: %w", s.appID, ErrNoRefreshToken)
	}
	const op = "api_authorizer_token"
	var r authorizerTokenReply
	err = c.call(ctx, request{
		op:      op,
		method:  http.MethodPost,
		path:    "/cgi-bin/component/api_authorizer_token",
		body:    authorizerTokenBody{ComponentAppID: c.appID, AuthorizerAppID: s.appID, RefreshToken: rt},
		secrets: []string{rt},
	}, &r)
	if err != nil {
		return nil, err
	}
	tok, err := tokenFromReply(op, &tokenReply{AccessToken: r.AccessToken, ExpiresIn: r.ExpiresIn}, c.app.cfg.now())
	if err != nil {
		return nil, err
	}
	if nrt := r.RefreshToken; nrt != "" && nrt != rt && validToken(nrt) {
		if err := store.SaveRefreshToken(ctx, s.appID, nrt); err != nil {
			c.app.cfg.logger.LogAttrs(ctx, slog.LevelError, "wxauth: component: saving a rotated authorizer_refresh_token failed",
				slog.String("authorizer", s.appID), slog.String("error", redact.Strings(err.Error(), rt, nrt)))
		}
	}
	return tok, nil
}
