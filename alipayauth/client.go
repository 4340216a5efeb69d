package alipayauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// Limits on what is sent and accepted.
const (
	// MaxCodeLen is the longest authCode [App.Code2Session] sends. Real
	// ones are 32 characters.
	MaxCodeLen = 256
	// MaxIDLen is the longest user_id, open_id or union_id accepted from
	// a reply. A user_id is 16 digits (2088...), an open_id some 50
	// characters.
	MaxIDLen = 128
	// MaxAppIDLen is the longest appid [New] accepts (the gateway's
	// app_id is at most 32 characters).
	MaxAppIDLen = 32
)

// gatewayPath is the gateway's path under the base URL.
const gatewayPath = "/gateway.do"

// beijingOffset is the offset of the time zone of the gateway's timestamp
// parameter (UTC+8, no daylight saving).
const beijingOffset = 8 * time.Hour

// App is a client for one Alipay mini-program. It implements
// [miniauth.Client] and [miniauth.PhoneDecrypter], and is the
// [miniauth.Apps] of its one app. Create it with [New]; it is safe for
// concurrent use.
type App struct {
	appID string
	key   *rsa.PrivateKey
	pub   *rsa.PublicKey
	cfg   config
	eng   *engine.Client
}

var (
	_ miniauth.Client         = (*App)(nil)
	_ miniauth.Apps           = (*App)(nil)
	_ miniauth.PhoneDecrypter = (*App)(nil)
)

// New returns a client for the mini-program with the given appid, the app's
// RSA2 private key (应用私钥) and Alipay's public key (支付宝公钥), each PEM or
// the bare base64 the Alipay console and key tool show; the private key
// PKCS#1 or PKCS#8, the public key PKIX or PKCS#1, both of at least 2048
// bits. An empty or over-long appid, a key that does not parse, or an
// option that rejects its argument is an error, which never quotes a key.
//
// The public-key certificate mode (公钥证书) is not supported: give the
// app's key and Alipay's public key.
func New(appID, appPrivateKey, alipayPublicKey string, opts ...Option) (*App, error) {
	if appID == "" {
		return nil, errors.New("alipayauth: appID must not be empty")
	}
	if len(appID) > MaxAppIDLen || !printableASCII(appID) {
		return nil, fmt.Errorf("alipayauth: appID must be 1 to %d bytes of printable ASCII", MaxAppIDLen)
	}
	key, err := parsePrivateKey(appPrivateKey)
	if err != nil {
		return nil, err
	}
	pub, err := parsePublicKey(alipayPublicKey)
	if err != nil {
		return nil, err
	}
	if pub.Equal(&key.PublicKey) {
		return nil, errors.New("alipayauth: alipay public key is the app's own public key; give Alipay's public key (支付宝公钥)")
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
	eng, err := engine.New(cfg.Config("alipay", ErrBadResponse))
	if err != nil {
		return nil, err
	}
	return &App{appID: appID, key: key, pub: pub, cfg: cfg, eng: eng}, nil
}

// String returns "alipayauth.App{AppID: ...}": never a key. String,
// GoString and Format have value receivers, so that an App value prints as
// safely as a pointer.
func (a App) String() string { return fmt.Sprintf("alipayauth.App{AppID: %q}", a.appID) }

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String whatever the verb.
func (a App) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// AppID returns the appid the client was created with.
func (a *App) AppID() string { return a.appID }

// Platform returns [miniauth.Alipay].
func (a *App) Platform() miniauth.Platform { return miniauth.Alipay }

// App makes an App the [miniauth.Apps] of its one mini-program: a itself
// for its own appid or "", [ErrUnknownApp] for any other.
func (a *App) App(ctx context.Context, appID string) (miniauth.Client, error) {
	return miniauth.SingleApp(ctx, a, appID)
}

// oauthTokenNode is alipay.system.oauth.token's response node.
const oauthTokenNode = "alipay_system_oauth_token_response"

// gatewayStatus is the status an error_response carries, and a response
// node when it reports a business failure (as APIs other than
// alipay.system.oauth.token report theirs).
type gatewayStatus struct {
	Code    string `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
}

// oauthTokenNodeFields holds the fields of the response node this package
// reads. The node also carries the user's access_token and refresh_token,
// which are not read (see Code2Session).
type oauthTokenNodeFields struct {
	gatewayStatus
	UserID  string `json:"user_id"`
	OpenID  string `json:"open_id"`
	UnionID string `json:"union_id"`
}

// signedReply is the engine's reply of one gateway call: it cuts the body
// into its parts, verifies the sign with Alipay's public key over the raw
// text of the response node (or error_response), and decodes the node into
// node. It is the dialect of the gateway's error_response envelope.
type signedReply[T any] struct {
	pub      *rsa.PublicKey
	nodeName string
	node     T
	status   gatewayStatus
	failed   bool
	// nodeStatus reads the business status of a decoded node.
	nodeStatus func(*T) gatewayStatus
}

var (
	_ engine.Reply       = (*signedReply[oauthTokenNodeFields])(nil)
	_ engine.BodyDecoder = (*signedReply[oauthTokenNodeFields])(nil)
)

// DecodeBody implements [engine.BodyDecoder].
//
// A success must be signed. An error_response is verified when it carries
// a sign, and taken as it is when it has none (the gateway cannot sign for
// an app it does not know): an error grants nothing, and a forged one can
// only deny, which whoever can forge replies can do anyway.
func (r *signedReply[T]) DecodeBody(body []byte) error {
	var zero T
	r.node, r.status, r.failed = zero, gatewayStatus{}, false
	p, err := splitReply(body, r.nodeName)
	if err != nil {
		return engine.Malformed(err.Error())
	}
	if p.errNode != nil {
		if p.hasSign && verifyRSA2(r.pub, p.errNode, p.sign) != nil {
			return engine.Malformed("error_response with a sign that does not verify")
		}
		if json.Unmarshal(p.errNode, &r.status) != nil {
			return engine.Malformed("error_response is not a JSON object")
		}
		r.failed = true
		return nil
	}
	switch {
	case p.node == nil:
		return engine.Malformed("no " + r.nodeName)
	case !p.hasSign:
		return engine.Malformed("no sign")
	case verifyRSA2(r.pub, p.node, p.sign) != nil:
		return engine.Malformed("sign does not verify with alipay's public key")
	}
	if json.Unmarshal(p.node, &r.node) != nil {
		return engine.Malformed(r.nodeName + " is not a JSON object")
	}
	if st := r.nodeStatus(&r.node); st.Code != "" && st.Code != codeSuccess {
		r.status, r.failed = st, true
	}
	return nil
}

// Failed implements [engine.Reply].
func (r *signedReply[T]) Failed() bool { return r.failed }

// Err implements [engine.Reply]: an [*APIError], retried for gateway code
// 20000.
func (r *signedReply[T]) Err(op string, s engine.Scrubber) (bool, error) {
	st := r.status
	e := newAPIError(op, s.Scrub, st.Code, st.Msg, st.SubCode, st.SubMsg)
	return errors.Is(e, ErrSystemBusy), e
}

// Code2Session exchanges the authCode from my.getAuthCode for the user's
// [miniauth.Session], with alipay.system.oauth.token
// (grant_type=authorization_code) on the gateway
// (https://w3cschool.cn/aliminiapp/aliminiapp-osfv2j24.html, a mirror of
// the API's page; https://docs.antom.com/ac/solution_api/oauth_token). An
// authCode is single use and valid for at most 24 hours ("auth_code为1次有效
// … auth_code有效期最久24小时", Alipay's support page
// opendocs.alipay.com/support/01rg6z as quoted at
// https://cnblogs.com/imzhi/articles/15559220.html; Antom's page,
// https://docs.antom.com/ac/common/obtain_uid, says 3 minutes to 24 hours).
//
// The request is a form POST signed with the app's private key (RSA2); the
// reply's sign is verified with Alipay's public key over the raw text of
// its response node, and a success without a valid sign is refused
// ([ErrBadResponse]).
//
// Session.OpenID is the reply's open_id when it carries one, else its
// user_id (2088..., 16 digits): Alipay moves apps to per-app open_ids, and
// a new app gets open_id only; an app of the user_id era keeps user_id
// until it switches in the console, after which its users come back with
// new ids. Session.UnionID is union_id when the reply has one. SessionKey
// is empty: Alipay has none. The reply also carries the user's
// access_token (for alipay.user.info.share and other user-authorized
// APIs); it is not a session key, is not kept, and is never logged.
//
// A code that is empty, over [MaxCodeLen] bytes or not printable ASCII is
// refused without a request ([ErrInvalidCode]). Alipay's refusals are
// [*APIError]s matching [ErrInvalidCode], [ErrInvalidCredential],
// [ErrNotAllowed] or [ErrSystemBusy] (retried first).
func (a *App) Code2Session(ctx context.Context, code string) (*miniauth.Session, error) {
	const op = opOauthToken
	if code == "" || len(code) > MaxCodeLen || !printableASCII(code) {
		return nil, fmt.Errorf("alipayauth: %s: code must be 1 to %d bytes of printable ASCII: %w", op, MaxCodeLen, ErrInvalidCode)
	}
	form, err := a.signedForm(op, map[string]string{
		"grant_type": "authorization_code",
		"code":       code,
	})
	if err != nil {
		return nil, err
	}
	r := signedReply[oauthTokenNodeFields]{
		pub: a.pub, nodeName: oauthTokenNode,
		nodeStatus: func(n *oauthTokenNodeFields) gatewayStatus { return n.gatewayStatus },
	}
	err = a.eng.Do(ctx, engine.Request{
		Op:      op,
		Method:  http.MethodPost,
		Base:    a.cfg.BaseURL,
		Path:    gatewayPath,
		Form:    form,
		Secrets: []string{code, form.Get("sign")},
	}, &r)
	if err != nil {
		return nil, err
	}
	n := &r.node
	id := n.OpenID
	if id == "" {
		id = n.UserID
	}
	if !validID(id) {
		return nil, a.eng.BadReply(op, "no usable open_id or user_id")
	}
	if n.UnionID != "" && !validID(n.UnionID) {
		return nil, a.eng.BadReply(op, "unusable union_id")
	}
	return &miniauth.Session{Platform: miniauth.Alipay, AppID: a.appID, OpenID: id, UnionID: n.UnionID}, nil
}

// signedForm returns the form of a gateway call of method with the
// business parameters biz at the top level (as alipay.system.oauth.token
// takes them), the common parameters and the RSA2 sign.
func (a *App) signedForm(method string, biz map[string]string) (url.Values, error) {
	params := map[string]string{
		"app_id":    a.appID,
		"method":    method,
		"format":    "JSON",
		"charset":   "utf-8",
		"sign_type": "RSA2",
		"timestamp": a.cfg.Now().UTC().Add(beijingOffset).Format(time.DateTime),
		"version":   "1.0",
	}
	for k, v := range biz {
		params[k] = v
	}
	sign, err := signRSA2(a.key, []byte(signContent(params)))
	if err != nil {
		return nil, fmt.Errorf("alipayauth: %s: cannot sign the request", method)
	}
	v := make(url.Values, len(params)+1)
	for k, p := range params {
		v.Set(k, p)
	}
	v.Set("sign", sign)
	return v, nil
}

// validID reports whether an id from a reply is usable: 1 to [MaxIDLen]
// bytes of printable ASCII.
func validID(id string) bool {
	return id != "" && len(id) <= MaxIDLen && printableASCII(id)
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
