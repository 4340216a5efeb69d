package wxauth

import (
	"context"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Token is an access_token: the credential of WeChat's server APIs (phone
// number, checksession, ...), shared by every user of one mini-program. It
// is [miniauth.Token], shared by every platform: a token never shows its
// AccessToken in fmt, log/slog or encoding/json.
type Token = miniauth.Token

// TokenSource supplies access tokens: WeChat's token endpoints, or a
// central token service that a company runs for all its servers (plug one
// in with [WithTokenSource]). It is [miniauth.TokenSource], whose doc
// states the contract: [App] caches what it returns, refreshes it shortly
// before ExpiresAt and makes sure that only one call at a time is in
// flight.
type TokenSource = miniauth.TokenSource

// TokenInvalidator is implemented by a [TokenSource] that wants to hear
// when WeChat refused one of its tokens (errcode 40001, 40014 or 42001). It
// is [miniauth.TokenInvalidator].
type TokenInvalidator = miniauth.TokenInvalidator

// StaticTokenSource returns a [TokenSource] that always returns accessToken,
// never expiring: for tests of code that calls [App.GetPhoneNumber] and the
// like against a fake server. An App using it never asks WeChat for a token.
func StaticTokenSource(accessToken string) TokenSource {
	return miniauth.StaticTokenSource(accessToken)
}

// TokenStore is where the instances of a fleet share one access token, so
// that one of them refreshes it and the others read it instead of each
// fetching its own (with the classic /cgi-bin/token, every fetch knocks out
// the tokens the other instances hold: errcode 40001). It is
// [miniauth.TokenStore], whose doc states the contract; one store serves
// the apps of every platform. The default store, [NewMemoryTokenStore],
// shares nothing beyond one process; package wxauth/redistoken has one on
// Redis.
type TokenStore = miniauth.TokenStore

// TokenLease is an appid's refresh lock and the only way to store a token:
// [miniauth.TokenLease].
type TokenLease = miniauth.TokenLease

// ErrLeaseLost is returned, possibly wrapped, by [TokenLease.Save] when the
// lease no longer holds the store's refresh lock: [miniauth.ErrLeaseLost].
var ErrLeaseLost = miniauth.ErrLeaseLost

// MemoryTokenStore is a [TokenStore] in the memory of one process, the
// default of [App]: [miniauth.MemoryTokenStore]. Give several Apps of one
// appid the same MemoryTokenStore to share one token between them.
type MemoryTokenStore = miniauth.MemoryTokenStore

// NewMemoryTokenStore returns an empty [MemoryTokenStore].
func NewMemoryTokenStore() *MemoryTokenStore { return miniauth.NewMemoryTokenStore() }

// maxExpiresIn caps the lifetime taken from a reply (WeChat's is at most 7200 s).
const maxExpiresIn = 24 * 60 * 60

// tokenReply is what /cgi-bin/token and /cgi-bin/stable_token return.
type tokenReply struct {
	baseReply
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"` // nil: missing
}

// wechatSource fetches tokens from WeChat's endpoints through the App's
// request helper: POST /cgi-bin/stable_token (normal mode), or the classic
// GET /cgi-bin/token.
type wechatSource struct {
	app     *App
	classic bool
}

func (s wechatSource) Token(ctx context.Context) (*Token, error) {
	a := s.app
	req := request{op: "stable_token", method: http.MethodPost, path: "/cgi-bin/stable_token",
		// JSON body: the secret stays out of the URL. force_refresh is never
		// set: WeChat allows it 20 times a day, 30 s apart, and it knocks
		// out the token every other caller holds.
		body: stableTokenBody{GrantType: "client_credential", AppID: a.appID, Secret: a.secret},
	}
	if s.classic {
		req = request{op: "token", method: http.MethodGet, path: "/cgi-bin/token",
			query: map[string]string{"grant_type": "client_credential", "appid": a.appID, "secret": a.secret}}
	}
	var r tokenReply
	if err := a.do(ctx, req, &r); err != nil {
		return nil, err
	}
	return tokenFromReply(req.op, &r, a.cfg.now())
}

// tokenFromReply checks a token reply received at now (expires_in 0 is
// the token's last second, not a malformed reply: see
// engine.TokenFromReply).
func tokenFromReply(op string, r *tokenReply, now time.Time) (*Token, error) {
	tok, why := engine.TokenFromReply(r.AccessToken, r.ExpiresIn, maxExpiresIn*time.Second, now)
	if why != "" {
		return nil, badReply(op, why)
	}
	return tok, nil
}

type stableTokenBody struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// validToken reports whether tok may be used as an access_token: 1 to
// engine.MaxTokenLen bytes of printable ASCII, as the token cache checks.
func validToken(tok string) bool { return engine.ValidToken(tok) }
