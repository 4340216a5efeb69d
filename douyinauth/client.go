package douyinauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/wxmp/miniauth"
)

// userAgent is the User-Agent of every request.
const userAgent = "miniauth (+https://github.com/wxmp/miniauth) go-resty/" + resty.Version

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
	http   *resty.Client
	tokens *tokenCache
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
	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient // resty mutates the client it is given: hand it a copy
	}
	if hc.Transport == nil {
		hc.Transport = defaultTransport()
	}
	rc := resty.NewWithClient(&hc).
		SetRedirectPolicy(resty.NoRedirectPolicy()).
		SetRetryCount(0). // retries are done here, where they cannot log
		SetDebug(false).
		SetDisableWarn(true).
		SetLogger(discardLogger{}).
		SetResponseBodyLimit(maxBodyLen).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", userAgent)
	a := &App{appID: appID, secret: secret, cfg: cfg, http: rc}
	n := time.Duration(cfg.retries)
	a.tokens = &tokenCache{
		fetch:  a.fetchToken,
		now:    cfg.now,
		budget: cfg.timeout*(n+1) + cfg.backoffLimit*n,
		log:    cfg.logger,
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

// The connection pool of the default transport.
const (
	maxIdleConnsPerHost = 100
	idleConnTimeout     = 90 * time.Second
)

// defaultTransport returns a clone of http.DefaultTransport whose idle pool
// is sized for concurrent calls (net/http keeps 2 per host), or one with
// net/http's settings when http.DefaultTransport was replaced.
func defaultTransport() *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t.MaxIdleConns = maxIdleConnsPerHost
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.IdleConnTimeout = idleConnTimeout
	t.ForceAttemptHTTP2 = true
	return t
}

// discardLogger keeps resty silent: its warnings can carry request details.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
