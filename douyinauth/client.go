package douyinauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// App is a client for one Douyin (抖音/头条) mini-app's server APIs. It
// implements [miniauth.Client] and the capabilities Douyin has: decrypting
// user data ([miniauth.Decrypter], [miniauth.SignatureVerifier]) and the
// phone number by code ([miniauth.PhoneExchanger], with [WithPrivateKey]).
// It is the [miniauth.Apps] of its one app. Create it with [New]; it is safe
// for concurrent use.
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
	_ miniauth.PhoneExchanger    = (*App)(nil)
)

// New returns a client for the mini-app with the given appid and app secret
// (控制台 > 小程序详情 > 开发 > 开发配置). An empty appID or secret, an appid
// that is not printable ASCII, or an option that rejects its argument (a
// malformed private key) is an error.
func New(appID, secret string, opts ...Option) (*App, error) {
	if appID == "" {
		return nil, errors.New("douyinauth: appID must not be empty")
	}
	if !validID(appID) {
		return nil, errors.New("douyinauth: appID must be printable ASCII")
	}
	if secret == "" {
		return nil, errors.New("douyinauth: secret must not be empty")
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
	eng, err := engine.New(cfg.Config("douyin", ErrBadResponse, secret))
	if err != nil {
		return nil, err
	}
	a := &App{appID: appID, secret: secret, cfg: cfg, eng: eng}
	if a.tokens, err = newTokenCache(a); err != nil {
		return nil, err
	}
	return a, nil
}

// String returns "douyinauth.App{AppID: ...}": never the secret, the private
// key or a token. String, GoString and Format have value receivers, so that
// an App value is as safe to print as a pointer.
func (a App) String() string { return fmt.Sprintf("douyinauth.App{AppID: %q}", a.appID) }

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb.
func (a App) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the appid the client was created with.
func (a *App) AppID() string { return a.appID }

// Platform returns [miniauth.Douyin].
func (a *App) Platform() miniauth.Platform { return miniauth.Douyin }

// App makes an App the [miniauth.Apps] of its one mini-app: it returns a
// itself for its own appid or for "", and an error matching [ErrUnknownApp]
// for any other.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}
