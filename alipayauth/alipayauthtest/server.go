package alipayauthtest

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PathGateway is the gateway's path: every API is a POST to it, named by
// its method parameter.
const PathGateway = "/gateway.do"

// MethodOauthToken is the method the login calls.
const MethodOauthToken = "alipay.system.oauth.token"

// CodeTTL is how long an authCode from [Server.AuthCode] stays valid. Alipay
// documents 3 minutes to 24 hours; the fake keeps the shortest.
const CodeTTL = 3 * time.Minute

// DefaultMobile is the phone number of a user who has none.
const DefaultMobile = "13800138000"

// maxBodyLen caps request bodies.
const maxBodyLen = 1 << 20

// An Option configures a [Server].
type Option func(*config) error

type config struct {
	now    func() time.Time
	appPub *rsa.PublicKey
}

// WithClock sets the clock the server reads for code expiry and request
// timestamps (default time.Now). It must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("alipayauthtest: clock must not be nil")
		}
		c.now = now
		return nil
	}
}

// WithAppPublicKey makes the server verify requests with the app public key
// given (PEM, PKIX or PKCS#1), as the key uploaded to Alipay's console,
// instead of a key pair of its own: for tests that use the app's real
// private key. [Server.AppPrivateKey] is then empty.
func WithAppPublicKey(pemText string) Option {
	return func(c *config) error {
		block, _ := pem.Decode([]byte(pemText))
		if block == nil {
			return errors.New("alipayauthtest: app public key must be PEM")
		}
		var pub *rsa.PublicKey
		if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
			pub, _ = k.(*rsa.PublicKey)
		} else if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
			pub = k
		}
		if pub == nil {
			return errors.New("alipayauthtest: app public key is not an RSA public key")
		}
		c.appPub = pub
		return nil
	}
}

// User is a simulated Alipay user of the mini-program.
type User struct {
	// OpenID is the user's per-app open_id, sent by apps in open_id mode
	// (every new app). Empty with UserID empty too: a new random one.
	OpenID string
	// UserID is the user's 2088... user_id, sent by apps of the user_id
	// era; a user with both gets both, as during Alipay's migration.
	UserID string
	// UnionID, when set, is sent as union_id.
	UnionID string
	// Mobile is the number my.getPhoneNumber gives (default
	// [DefaultMobile]).
	Mobile string
}

// id is the key the server files the user under: OpenID, else UserID.
func (u User) id() string {
	if u.OpenID != "" {
		return u.OpenID
	}
	return u.UserID
}

type issuedCode struct {
	id     string
	issued time.Time
	used   bool
}

// fault is an injected failure: an error_response, or an HTTP status.
type fault struct {
	subCode string
	status  int
}

// Server is a fake Alipay gateway on a local port, for tests. It signs its
// replies with an Alipay key pair of its own ([Server.AlipayPublicKey] is
// the key for alipayauth.New), verifies each request's RSA2 signature with
// the app's public key, and makes the app's AES key for phone responses.
// Create it with [NewServer], stop it with [Server.Close]. It is safe for
// concurrent use.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port: the argument
	// for alipayauth.WithBaseURL.
	URL string

	appID     string
	appKey    *rsa.PrivateKey // nil with WithAppPublicKey
	appPub    *rsa.PublicKey
	alipayKey *rsa.PrivateKey
	aesKey    []byte
	cfg       config
	ts        *httptest.Server

	mu     sync.Mutex
	users  map[string]*User
	codes  map[string]*issuedCode
	calls  map[string]int
	faults map[string][]fault
}

// NewServer starts a fake gateway for the app with the given appid. Like
// httptest.NewServer it panics when it cannot start; [Start] returns the
// error instead.
func NewServer(appID string, opts ...Option) *Server {
	s, err := Start(appID, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] returning an error instead of panicking.
func Start(appID string, opts ...Option) (*Server, error) {
	if appID == "" {
		return nil, errors.New("alipayauthtest: appID must not be empty")
	}
	cfg := config{now: time.Now}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := &Server{
		appID:  appID,
		cfg:    cfg,
		users:  make(map[string]*User),
		codes:  make(map[string]*issuedCode),
		calls:  make(map[string]int),
		faults: make(map[string][]fault),
		aesKey: make([]byte, 16),
	}
	// The two key pairs are made at once: RSA key generation is most of a
	// start's time.
	var appErr error
	var wg sync.WaitGroup
	s.appPub = cfg.appPub
	if s.appPub == nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.appKey, appErr = rsa.GenerateKey(rand.Reader, 2048)
		}()
	}
	var err error
	s.alipayKey, err = rsa.GenerateKey(rand.Reader, 2048)
	wg.Wait()
	if err = errors.Join(err, appErr); err != nil {
		return nil, fmt.Errorf("alipayauthtest: %w", err)
	}
	if s.appPub == nil {
		s.appPub = &s.appKey.PublicKey
	}
	_, _ = rand.Read(s.aesKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return nil, fmt.Errorf("alipayauthtest: cannot listen on a local port: %w", err)
		}
	}
	s.ts = &httptest.Server{Listener: l, Config: &http.Server{
		Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxBodyLen,
	}}
	s.ts.Start()
	s.URL = s.ts.URL
	return s, nil
}

// Close shuts the server down. It may be called more than once.
func (s *Server) Close() { s.ts.Close() }

// AppID returns the appid the server serves.
func (s *Server) AppID() string { return s.appID }

// AppPrivateKey returns the app's private key (PKCS#8 PEM) the server made,
// for alipayauth.New; empty with [WithAppPublicKey].
func (s *Server) AppPrivateKey() string {
	if s.appKey == nil {
		return ""
	}
	der, _ := x509.MarshalPKCS8PrivateKey(s.appKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// AlipayPublicKey returns the public key (PKIX PEM) the server signs its
// replies with: the "支付宝公钥" argument of alipayauth.New.
func (s *Server) AlipayPublicKey() string {
	der, _ := x509.MarshalPKIXPublicKey(&s.alipayKey.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// AESKey returns the app's AES key in base64, as the console shows it: the
// argument of alipayauth.WithAESKey.
func (s *Server) AESKey() string { return base64.StdEncoding.EncodeToString(s.aesKey) }

// AddUser registers u (a new random open_id when it has neither OpenID nor
// UserID; [DefaultMobile] when it has no Mobile) and returns the id the
// server knows it by: OpenID, else UserID. A user with that id is replaced.
func (s *Server) AddUser(u User) string {
	if u.OpenID == "" && u.UserID == "" {
		u.OpenID = randomOpenID()
	}
	if u.Mobile == "" {
		u.Mobile = DefaultMobile
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.id()] = &u
	return u.id()
}

// User returns the registered user with the id (open_id or user_id).
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return User{}, false
	}
	return *u, true
}

// AuthCode does what my.getAuthCode does for the user with the id (an
// open_id, or a user_id of a [User] that has only one): it returns a new
// authCode for alipay.system.oauth.token, valid for [CodeTTL] and once. An
// id no user has registers a user with that open_id; an empty id, a new
// user with a random open_id.
func (s *Server) AuthCode(id string) string {
	if id == "" {
		id = randomOpenID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[id] == nil {
		s.users[id] = &User{OpenID: id, Mobile: DefaultMobile}
	}
	now := s.cfg.now()
	for c, ic := range s.codes { // expired codes go, so that state stays bounded
		if now.Sub(ic.issued) > CodeTTL {
			delete(s.codes, c)
		}
	}
	code := randomString(32)
	s.codes[code] = &issuedCode{id: id, issued: now}
	return code
}

// Calls returns how many requests the gateway received for method (such as
// [MethodOauthToken]), refused ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// FailNext makes the next request for method fail with an error_response
// of subCode (such as "isp.unknow-error", which clients retry, or
// "isv.code-invalid") and the gateway code Alipay pairs with it, with no
// other effect: a code in it is not used up. Calls queue up.
func (s *Server) FailNext(method, subCode string) error {
	if subCode == "" {
		return errors.New("alipayauthtest: FailNext: subCode must not be empty")
	}
	return s.addFault(method, fault{subCode: subCode})
}

// FailNextStatus makes the next request for method fail with the HTTP
// status (300 to 599) and a plain-text body.
func (s *Server) FailNextStatus(method string, status int) error {
	if status < 300 || status > 599 {
		return fmt.Errorf("alipayauthtest: FailNextStatus: status must be 300 to 599, got %d", status)
	}
	return s.addFault(method, fault{status: status})
}

func (s *Server) addFault(method string, f fault) error {
	if method != MethodOauthToken {
		return fmt.Errorf("alipayauthtest: no method %q", method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], f)
	return nil
}

func (s *Server) takeFault(method string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[method]
	if len(q) == 0 {
		return fault{}, false
	}
	if len(q) == 1 {
		delete(s.faults, method)
	} else {
		s.faults[method] = q[1:]
	}
	return q[0], true
}

// Gateway codes and messages (Alipay's 公共错误码, mirrored at
// https://open.alitrip.com/docs/doc.htm?articleId=105806&docType=1&treeId=262).
var gatewayMsgs = map[string]string{
	"20000": "Service Currently Unavailable",
	"20001": "Insufficient Token Permissions",
	"40001": "Missing Required Arguments",
	"40002": "Invalid Arguments",
	"40004": "Business Failed",
	"40006": "Insufficient Permissions",
}

// subCodes maps the sub_codes the server sends to their gateway code and
// sub_msg.
var subCodes = map[string][2]string{
	"isp.unknow-error":                 {"20000", "服务暂不可用（业务系统不可用）"},
	"aop.unknow-error":                 {"20000", "服务暂不可用（网关自身的未知错误）"},
	"isv.missing-method":               {"40001", "缺少方法名参数"},
	"isv.missing-signature":            {"40001", "缺少签名参数"},
	"isv.missing-signature-type":       {"40001", "缺少签名类型参数"},
	"isv.missing-app-id":               {"40001", "缺少appId参数"},
	"isv.missing-timestamp":            {"40001", "缺少时间戳参数"},
	"isv.missing-version":              {"40001", "缺少版本参数"},
	"isv.invalid-method":               {"40002", "不存在的方法名"},
	"isv.invalid-signature-type":       {"40002", "无效的签名类型"},
	"isv.invalid-signature":            {"40002", "验签出错"},
	"isv.invalid-app-id":               {"40002", "无效的AppID参数"},
	"isv.invalid-timestamp":            {"40002", "非法的时间戳参数"},
	"isv.invalid-charset":              {"40002", "字符集错误"},
	"isv.code-invalid":                 {"40002", "授权码code无效"},
	"isv.grant-type-invalid":           {"40002", "grant_type参数不正确"},
	"isv.insufficient-isv-permissions": {"40006", "ISV权限不足"},
}

// serve is the server's handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != PathGateway {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeText(w, http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyLen))
	if err != nil {
		writeText(w, http.StatusRequestEntityTooLarge)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		form = url.Values{}
	}
	for k, v := range r.URL.Query() { // SDKs send the common parameters in the query
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	method := form.Get("method")
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	if f, ok := s.takeFault(method); ok {
		if f.status != 0 {
			writeText(w, f.status)
			return
		}
		s.writeError(w, f.subCode, true)
		return
	}
	if sub, signed := s.checkCommon(form); sub != "" {
		s.writeError(w, sub, signed)
		return
	}
	switch method {
	case MethodOauthToken:
		s.oauthToken(w, form)
	default:
		s.writeError(w, "isv.invalid-method", true)
	}
}

// checkCommon checks the common parameters and the signature, returning the
// sub_code of the refusal ("" for none) and whether the refusal can be
// signed (not for an unknown app).
func (s *Server) checkCommon(form url.Values) (string, bool) {
	switch {
	case form.Get("method") == "":
		return "isv.missing-method", true
	case form.Get("app_id") == "":
		return "isv.missing-app-id", false
	case form.Get("app_id") != s.appID:
		return "isv.invalid-app-id", false
	case form.Get("sign") == "":
		return "isv.missing-signature", true
	case form.Get("sign_type") == "":
		return "isv.missing-signature-type", true
	case form.Get("sign_type") != "RSA2":
		return "isv.invalid-signature-type", true
	case form.Get("timestamp") == "":
		return "isv.missing-timestamp", true
	case form.Get("version") == "":
		return "isv.missing-version", true
	case !strings.EqualFold(form.Get("charset"), "utf-8"):
		return "isv.invalid-charset", true
	}
	if _, err := time.Parse(time.DateTime, form.Get("timestamp")); err != nil {
		return "isv.invalid-timestamp", true
	}
	if !s.verify(form) {
		return "isv.invalid-signature", true
	}
	return "", true
}

// verify checks the request's RSA2 sign over its sorted parameters.
func (s *Server) verify(form url.Values) bool {
	keys := make([]string, 0, len(form))
	for k, v := range form {
		if k == "sign" || len(v) == 0 || v[0] == "" {
			continue
		}
		if len(v) > 1 {
			return false // a repeated parameter signs ambiguously
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + form.Get(k))
	}
	sig, err := base64.StdEncoding.DecodeString(form.Get("sign"))
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(b.String()))
	return rsa.VerifyPKCS1v15(s.appPub, crypto.SHA256, sum[:], sig) == nil
}

// oauthTokenReply is alipay.system.oauth.token's response node
// (https://w3cschool.cn/aliminiapp/aliminiapp-osfv2j24.html; open_id and
// union_id as Alipay's open_id migration pages and gopay's model name them).
type oauthTokenReply struct {
	UserID       string `json:"user_id,omitempty"`
	OpenID       string `json:"open_id,omitempty"`
	UnionID      string `json:"union_id,omitempty"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    string `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	ReExpiresIn  string `json:"re_expires_in"`
	AuthStart    string `json:"auth_start"`
}

func (s *Server) oauthToken(w http.ResponseWriter, form url.Values) {
	if form.Get("grant_type") != "authorization_code" {
		s.writeError(w, "isv.grant-type-invalid", true)
		return
	}
	code := form.Get("code")
	s.mu.Lock()
	now := s.cfg.now()
	c := s.codes[code]
	if c == nil || c.used || now.Sub(c.issued) > CodeTTL {
		s.mu.Unlock()
		s.writeError(w, "isv.code-invalid", true)
		return
	}
	c.used = true
	u := *s.users[c.id]
	s.mu.Unlock()
	node, _ := json.Marshal(oauthTokenReply{
		UserID: u.UserID, OpenID: u.OpenID, UnionID: u.UnionID,
		AccessToken: "authusrB" + randomString(32), ExpiresIn: "1296000",
		RefreshToken: "authusrB" + randomString(32), ReExpiresIn: "2592000",
		AuthStart: now.UTC().Add(8 * time.Hour).Format(time.DateTime),
	})
	s.writeSigned(w, "alipay_system_oauth_token_response", node, true)
}

// errorNode is the gateway's error_response.
type errorNode struct {
	Code    string `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
}

// writeError writes an error_response for subCode, signed unless the app
// is unknown.
func (s *Server) writeError(w http.ResponseWriter, subCode string, signed bool) {
	c, ok := subCodes[subCode]
	if !ok {
		c = [2]string{"40004", "业务处理失败"}
	}
	node, _ := json.Marshal(errorNode{Code: c[0], Msg: gatewayMsgs[c[0]], SubCode: subCode, SubMsg: c[1]})
	s.writeSigned(w, "error_response", node, signed)
}

// writeSigned writes {"<name>":<node>,"sign":"..."}: the sign is over the
// node's bytes exactly as written.
func (s *Server) writeSigned(w http.ResponseWriter, name string, node []byte, signed bool) {
	var b strings.Builder
	b.WriteString(`{"` + name + `":`)
	b.Write(node)
	if signed {
		b.WriteString(`,"sign":"` + s.Sign(node) + `"`)
	}
	b.WriteString("}")
	w.Header().Set("Content-Type", "text/html;charset=utf-8") // as the gateway serves JSON
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = io.WriteString(w, b.String())
}

// Sign signs content with the server's Alipay key (RSA2, base64), as it
// signs its replies: for tests that hand-craft gateway replies or phone
// responses, to be verified with [Server.AlipayPublicKey].
func (s *Server) Sign(content []byte) string {
	sum := sha256.Sum256(content)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.alipayKey, crypto.SHA256, sum[:])
	if err != nil { // unreachable with a valid key
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func writeText(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

// phoneEnvelope is my.getPhoneNumber's res.response.
type phoneEnvelope struct {
	Response    string `json:"response"`
	Sign        string `json:"sign"`
	SignType    string `json:"sign_type"`
	EncryptType string `json:"encrypt_type"`
	Charset     string `json:"charset"`
}

// PhoneResponse does what my.getPhoneNumber does for the user with the id:
// it returns res.response, the JSON string the mini-program posts to its
// server: {"response":"<base64>","sign":"...","sign_type":"RSA2",
// "encrypt_type":"AES","charset":"UTF-8"}, where response is
// {"code":"10000","msg":"Success","mobile":"..."} encrypted with the app's
// AES key (AES-CBC, zero IV, PKCS#5) and sign is over response in double
// quotes. An unknown id is an error.
func (s *Server) PhoneResponse(id string) (string, error) {
	u, ok := s.User(id)
	if !ok {
		return "", fmt.Errorf("alipayauthtest: no user %q", id)
	}
	plain, _ := json.Marshal(map[string]string{"code": "10000", "msg": "Success", "mobile": u.Mobile})
	return s.PhoneResponseOf(plain), nil
}

// PhoneRefusal returns a my.getPhoneNumber response whose decrypted content
// is the error code and subCode, such as "40003" and
// "isv.invalid-auth-relations" (the app lacks the phone capability).
func (s *Server) PhoneRefusal(code, subCode string) string {
	plain, _ := json.Marshal(map[string]string{"code": code, "msg": "Insufficient Conditions", "subCode": subCode, "subMsg": "无效的授权关系"})
	return s.PhoneResponseOf(plain)
}

// PhoneResponseOf encrypts and signs plain as my.getPhoneNumber does, for
// tests of unusual content.
func (s *Server) PhoneResponseOf(plain []byte) string {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	block, _ := aes.NewCipher(s.aesKey)
	var iv [aes.BlockSize]byte
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(buf, buf)
	content := base64.StdEncoding.EncodeToString(buf)
	env, _ := json.Marshal(phoneEnvelope{
		Response: content, Sign: s.Sign([]byte(`"` + content + `"`)),
		SignType: "RSA2", EncryptType: "AES", Charset: "UTF-8",
	})
	return string(env)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n random alphanumeric characters.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// randomOpenID returns an open_id shaped like Alipay's: "0" and 46 more
// characters.
func randomOpenID() string { return "0" + randomString(46) }
