package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/wxmp/miniauth"
)

// flow is what [LoginHandler] and [PhoneHandler] share: the apps they
// serve, the Manager, the hook, and the steps both take.
type flow struct {
	apps miniauth.Apps
	// single is apps when it is itself a client (one app, as a
	// *wxauth.App is): it serves its own app, and a capability it lacks is
	// a wiring mistake known at construction.
	single  miniauth.Client
	appFrom func(*http.Request) string // WithAppIDFrom, or nil
	m       *Manager
	onLogin OnLoginFunc
	err     error // misconfiguration: every request gets 500

	// checkEncrypted: ask WeChat about encryptedData ([WithEncryptedDataCheck]).
	checkEncrypted bool
}

func newFlow(name string, apps miniauth.Apps, m *Manager, opts []LoginOption) *flow {
	f := &flow{apps: apps, m: m}
	f.single, _ = apps.(miniauth.Client)
	switch {
	case m == nil:
		f.err = errors.New("session: " + name + ": nil manager")
		f.m = brokenManager(f.err)
	case m.err != nil:
		f.err = m.unusable()
	case isNil(apps):
		f.err = errors.New("session: " + name + ": nil apps (a client, miniauth.NewApps or miniauth.AppsFunc)")
	}
	for _, o := range opts {
		if o != nil {
			o(f)
		}
	}
	return f
}

// isNil reports whether apps is nil or a nil pointer in an interface.
func isNil(apps miniauth.Apps) bool {
	if apps == nil {
		return true
	}
	v := reflect.ValueOf(apps)
	switch v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Interface, reflect.Slice:
		return v.IsNil()
	}
	return false
}

// maxAppIDLen caps the appid and platform a login body names.
const maxAppIDLen = 128

// client returns the client of the app a request names (appID and platform
// from its body, or [WithAppIDFrom]): 400 unknown_app for an app not served
// here, or none named where several are, before anything is sent upstream;
// 503 when the apps cannot be looked up (a tenant database down).
func (f *flow) client(r *http.Request, platform, appID string) (miniauth.Client, *HTTPError) {
	if appID == "" && f.appFrom != nil {
		appID = f.appFrom(r)
	}
	return f.resolve(r, platform, appID)
}

// resolve returns the client of the app of platform and appID, as client
// does, without asking the request: the app of a session is the session's
// own, and a session without an appid resolves only where one app is
// served.
func (f *flow) resolve(r *http.Request, platform, appID string) (miniauth.Client, *HTTPError) {
	if len(appID) > maxAppIDLen || !printable(appID) {
		return nil, invalidRequest("appid must be at most 128 bytes of printable ASCII", nil)
	}
	p := miniauth.Platform(platform)
	if p != "" && !p.Known() {
		return nil, unknownApp(fmt.Errorf("session: unknown platform: %w", miniauth.ErrUnknownApp))
	}
	ctx := r.Context()
	c, err := miniauth.ResolveApp(ctx, f.apps, p, appID)
	switch {
	case err == nil && c == nil:
		return nil, unknownApp(miniauth.ErrUnknownApp)
	case err == nil:
		return c, nil
	case errors.Is(err, miniauth.ErrUnknownApp):
		return nil, unknownApp(err)
	case ctx.Err() != nil:
		return nil, canceled(err)
	}
	return nil, &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
		Message: "the service is unavailable: try again later", Err: fmt.Errorf("session: looking up the app: %w", err)}
}

// unknownApp is the answer to a login for an app not served here.
func unknownApp(err error) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Code: CodeUnknownApp,
		Message: "unknown app: send the appid (and platform) of the mini-program", Err: err}
}

// notSupported is the answer to a request that needs a capability the
// app's platform does not have.
func notSupported(c miniauth.Client, what string) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Code: CodeNotSupported,
		Message: what + " is not supported on " + string(c.Platform().OrWeChat()),
		Err:     fmt.Errorf("session: %s: the %s client has no such capability", what, c.Platform().OrWeChat())}
}

// brokenManager stands in for a nil Manager given to a handler: every call
// fails with err, and its refusals are logged to slog.Default.
func brokenManager(err error) *Manager {
	m := &Manager{cfg: defaultConfig(), err: err}
	m.cfg.logger = slog.Default()
	return m
}

// accept answers a request the handler does not serve (misconfigured
// handler, not a POST, a cross-origin request in cookie mode) and reports
// whether to go on.
func (f *flow) accept(w http.ResponseWriter, r *http.Request, op string) bool {
	return acceptPost(f.m, f.err, w, r, op)
}

// acceptPost is [flow.accept] for any handler of this package built on m:
// err is the handler's misconfiguration, if any.
func acceptPost(m *Manager, err error, w http.ResponseWriter, r *http.Request, op string) bool {
	if err != nil {
		m.refuse(w, r, op, serverError(err))
		return false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		m.refuse(w, r, op, &HTTPError{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
			Message: "use POST"})
		return false
	}
	if e := m.checkOrigin(r); e != nil {
		m.refuse(w, r, op, e)
		return false
	}
	return true
}

// phoneExchanger returns c's phone-code capability, or the answer to a
// request that needs it: 500 for the one client a handler was built with (a
// wiring mistake: a wrapper that hides it), 400 not_supported for an app of
// a platform that has none.
func (f *flow) phoneExchanger(c miniauth.Client) (miniauth.PhoneExchanger, *HTTPError) {
	if px, ok := c.(miniauth.PhoneExchanger); ok {
		return px, nil
	}
	if f.single != nil {
		return nil, serverError(errors.New("session: a phoneCode was sent, but the handler's client has no GetPhoneNumber (see session.PhoneClient)"))
	}
	return nil, notSupported(c, "phoneCode")
}

// exchangePhone exchanges a phone code for the number of the user openID.
func (f *flow) exchangePhone(ctx context.Context, px miniauth.PhoneExchanger, code, openID string) (*miniauth.PhoneNumber, *HTTPError) {
	p, err := px.GetPhoneNumber(ctx, code, miniauth.ForOpenID(openID))
	if err == nil && p == nil {
		err = errors.New("session: getuserphonenumber returned no phone number")
	}
	if err != nil {
		if e := f.m.wechatFault(ctx, "phone", err); e != nil {
			return nil, e
		}
		return nil, WeChatError(ctx, err)
	}
	return p, nil
}

// callHook calls the hook, if any, under the dependency timeout, and maps
// its error to its answer. An [*UnavailableError], or a hook that did not
// return in time, is an outage of a dependency: the Manager guards it from
// then on (guard.go).
func (f *flow) callHook(ctx context.Context, info *LoginInfo) (map[string]any, *HTTPError) {
	if f.onLogin == nil {
		return nil, nil
	}
	var fields map[string]any
	err := f.m.boundedCall(ctx, func(ctx context.Context) error {
		var err error
		fields, err = f.onLogin(ctx, info)
		return err
	})
	switch {
	case err == nil:
		f.m.dependenciesAnswered(ctx)
		return fields, nil
	case ctx.Err() != nil:
		return nil, canceled(err)
	case errors.Is(err, ErrDependencyUnavailable), errors.Is(err, context.DeadlineExceeded):
		if !errors.Is(err, ErrDependencyUnavailable) {
			err = &UnavailableError{Dependency: hookDependency, Err: err}
		}
		f.m.hookFailed(ctx, err)
		return nil, &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
			Message: "the service cannot log you in right now: try again later", Err: err}
	}
	return nil, hookError(ctx, err)
}

// What a failed login had spent, for [spent].
const (
	spentLogin      = "call wx.login again for a new code and retry later"
	spentLoginPhone = "call wx.login again for a new code, ask for the phone number again (a new press of the button) and retry later"
	spentPhone      = "ask for the phone number again (a new press of the button) and retry later"
)

// spent turns e, the answer to a login that failed after WeChat took its
// codes, into 503 code_spent when e says "try again later" (503
// store_unavailable), so that the client does not post the spent codes
// again; todo is what the client must do (spentLogin, spentLoginPhone,
// spentPhone).
func spent(e *HTTPError, todo string) *HTTPError {
	if e == nil || e.Status != http.StatusServiceUnavailable || e.Code != CodeStoreUnavailable {
		return e
	}
	return &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeCodeSpent,
		Message: "the service failed after the codes were used: " + todo, Err: e.Err}
}

// hookError maps an error of the OnLogin hook to its answer.
func hookError(ctx context.Context, err error) *HTTPError {
	var he *HTTPError
	switch {
	case errors.As(err, &he) && he.Status >= 400 && he.Status <= 599 && he.Code != "":
		return he
	case errors.Is(err, ErrLoginRefused):
		return &HTTPError{Status: http.StatusForbidden, Code: CodeLoginRefused, Message: "login refused", Err: err}
	case ctx.Err() != nil:
		return canceled(err)
	}
	return serverError(err)
}

// reservedFields are the response fields a hook cannot set, folded as
// [foldKey] folds (a constant table: never written after init).
var reservedFields = func() map[string]bool {
	m := make(map[string]bool, 5)
	for _, k := range []string{"token", "expiresIn", "openid", "unionid", "userInfo"} {
		m[foldKey(k)] = true
	}
	return m
}()

// issue issues the token of a checked login and returns it with the body of
// the answer: {token, expiresIn, openid, unionid?, userInfo?} and the hook's
// fields (without the token in cookie mode).
//
// A session that continues another (a phone bind) passes the other's end:
// the new one ends no later, so that binding again and again cannot keep a
// token alive past its lifetime. The answer's expiresIn, and the cookie's
// Max-Age, say how long it lives.
func (f *flow) issue(ctx context.Context, sess *miniauth.Session, info *LoginInfo, fields map[string]any, end time.Time) (token string, body []byte, life time.Duration, e *HTTPError) {
	life = f.m.TTL()
	opts := []IssueOption{ForSubject(info.Subject)}
	if !end.IsZero() {
		opts = append(opts, endingBy(end))
		life = min(life, end.Sub(f.m.cfg.now()))
	}
	token, err := f.m.Issue(ctx, sess, opts...)
	if err != nil {
		return "", nil, 0, f.m.tokenError(err)
	}
	resp := make(map[string]any, len(fields)+len(reservedFields))
	for k, v := range fields {
		// A field "Token" or "to\u212Aen" would be read as "token" by a
		// client decoding with encoding/json (and win, sorted after it).
		if !reservedFields[foldKey(k)] {
			resp[k] = v
		}
	}
	if !f.m.cookieMode() { // an HttpOnly cookie a script could read here would protect nothing
		resp["token"] = token
	}
	resp["expiresIn"] = int64(life / time.Second)
	resp["openid"] = sess.OpenID
	if sess.UnionID != "" {
		resp["unionid"] = sess.UnionID
	}
	if info.UserInfo != nil {
		resp["userInfo"] = info.UserInfo
	}
	body, err = json.Marshal(resp)
	if err != nil { // a hook field that JSON cannot encode
		f.m.discard(ctx, token)
		return "", nil, 0, serverError(errors.New("session: login: the hook's fields cannot be encoded as JSON"))
	}
	return token, body, life, nil
}

// answer writes the 200 answer of a login, with the cookie (living life)
// in cookie mode.
func (f *flow) answer(w http.ResponseWriter, token string, body []byte, life time.Duration) {
	if f.m.cookieMode() {
		f.m.setTokenCookie(w, token, life)
	}
	writeJSONBody(w, http.StatusOK, body)
}
