package wxauthtest

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Paths of the third-party platform's endpoints a [ComponentServer] serves
// besides [PathPhoneNumber], for [ComponentServer.FailNext] and
// [ComponentServer.Calls].
const (
	PathComponentToken        = "/cgi-bin/component/api_component_token"
	PathComponentCode2Session = "/sns/component/jscode2session"
	PathAuthorizerToken       = "/cgi-bin/component/api_authorizer_token"
	PathQueryAuth             = "/cgi-bin/component/api_query_auth"
)

// Lifetimes of what a third-party platform is issued.
const (
	// TicketTTL is how long a component_verify_ticket stays valid: 12 hours
	// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html).
	TicketTTL = 12 * time.Hour
	// AuthorizationCodeTTL is how long the authorization code of an
	// authorized event stays valid for api_query_auth.
	AuthorizationCodeTTL = time.Hour
)

// Errcodes of the third-party platform that the fake sends, with WeChat's
// texts (from the pages of each endpoint, cited at each handler).
func init() {
	for code, msg := range map[int]string{
		61003: "component is not authorized by this account",
		61005: "component ticket is expired",
		61006: "component ticket is invalid",
		61009: "code is invalid",
		61010: "code is expired",
		61011: "invalid component",
		61023: "refresh_token is invalid",
	} {
		errMsgs[code] = msg
	}
}

// componentEndpoints maps each path a ComponentServer serves to its API.
var componentEndpoints = map[string]struct {
	method string
	handle func(cs *ComponentServer, q url.Values, body []byte) any
}{
	PathComponentToken:        {http.MethodPost, (*ComponentServer).componentToken},
	PathComponentCode2Session: {http.MethodGet, (*ComponentServer).code2Session},
	PathAuthorizerToken:       {http.MethodPost, (*ComponentServer).authorizerToken},
	PathQueryAuth:             {http.MethodPost, (*ComponentServer).queryAuth},
	PathPhoneNumber:           {http.MethodPost, (*ComponentServer).phoneNumber},
}

// ComponentServer is a fake of WeChat for a third-party platform
// (component): it pushes component_verify_tickets and authorization events
// to the component's handler as WeChat does ([ComponentServer.PushTicket],
// [ComponentServer.PushEvent]), mints component_access_tokens from the
// tickets it pushed, logs in the users of the mini-programs that authorized
// the component (each a [Server] of its own, from [ComponentServer.App]),
// and serves their phone numbers with authorizer access tokens. Create it
// with [NewComponentServer] and stop it with [ComponentServer.Close]. It is
// safe for concurrent use.
//
// Like WeChat, each api_component_token call issues a new token and the
// previous one stays valid for [TokenGrace] (WeChat's page does not say;
// this is the careful reading, which a fleet that shares one token
// survives either way), and so does each api_authorizer_token call for its
// app.
type ComponentServer struct {
	// URL is the server's base URL, for wxauth.WithBaseURL.
	URL string

	appID  string
	secret string
	token  string
	// encodingAESKey seals the pushes; aesKey is only checked at start.
	encodingAESKey string
	cfg            config
	ts             *httptest.Server
	closed         chan struct{}
	once           sync.Once

	mu        sync.Mutex
	apps      map[string]*authorizer
	tickets   []issuedTicket
	tokens    tokens // component_access_tokens: plain and prev
	authCodes map[string]*authCode
	calls     map[string]int
	faults    map[string][]fault
}

// authorizer is a mini-program known to a ComponentServer.
type authorizer struct {
	srv        *Server
	authorized bool
	refresh    string // authorizer_refresh_token; "" once unauthorized
}

type issuedTicket struct {
	value  string
	issued time.Time
}

type authCode struct {
	appID  string
	issued time.Time
	used   bool
}

// NewComponentServer starts a fake WeChat for the third-party platform with
// the given appid, appsecret, message-check Token and EncodingAESKey (as
// wxauth.NewComponent takes them), on a local port. It takes the options of
// [NewServer]; the fakes of the mini-programs share them. Like NewServer it
// panics when it cannot start; [StartComponent] returns an error instead.
func NewComponentServer(appID, secret, token, encodingAESKey string, opts ...Option) *ComponentServer {
	cs, err := StartComponent(appID, secret, token, encodingAESKey, opts...)
	if err != nil {
		panic(err)
	}
	return cs
}

// StartComponent is [NewComponentServer] that returns an error instead of
// panicking.
func StartComponent(appID, secret, token, encodingAESKey string, opts ...Option) (*ComponentServer, error) {
	if appID == "" || secret == "" || token == "" {
		return nil, errors.New("wxauthtest: component appid, secret and token must not be empty")
	}
	if _, err := aesKeyOf(encodingAESKey); err != nil {
		return nil, err
	}
	cfg := config{now: time.Now, rateLimit: DefaultRateLimit}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	cs := &ComponentServer{
		appID:          appID,
		secret:         secret,
		token:          token,
		encodingAESKey: encodingAESKey,
		cfg:            cfg,
		closed:         make(chan struct{}),
		apps:           make(map[string]*authorizer),
		authCodes:      make(map[string]*authCode),
		calls:          make(map[string]int),
		faults:         make(map[string][]fault),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return nil, fmt.Errorf("wxauthtest: cannot listen on a local port: %w", err)
		}
	}
	cs.ts = &httptest.Server{
		Listener: l,
		Config: &http.Server{
			Handler:           http.HandlerFunc(cs.serve),
			ReadHeaderTimeout: 10 * time.Second,
			MaxHeaderBytes:    maxBodyLen,
		},
	}
	cs.ts.Start()
	cs.URL = cs.ts.URL
	return cs, nil
}

// Close shuts the server down. It may be called more than once.
func (cs *ComponentServer) Close() {
	cs.once.Do(func() {
		close(cs.closed)
		cs.ts.Close()
	})
}

// String returns the server's URL and appid, never a secret.
func (cs *ComponentServer) String() string {
	return fmt.Sprintf("wxauthtest.ComponentServer{URL: %q, AppID: %q}", cs.URL, cs.appID)
}

// GoString is String, for %#v.
func (cs *ComponentServer) GoString() string { return cs.String() }

// Format prints String whatever the verb.
func (cs *ComponentServer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(cs.String())) }

// AppID returns the component's appid.
func (cs *ComponentServer) AppID() string { return cs.appID }

func (cs *ComponentServer) now() time.Time { return cs.cfg.now() }

// Authorize makes the mini-program appID authorize the component (as its
// administrator does on WeChat's authorization page) and returns its fake,
// on which to register users and make login and phone codes
// ([Server.Login], [Server.PhoneCode]); the fake does not listen itself:
// its APIs are reached through the component's. It returns the
// authorizer_refresh_token WeChat hands the component for it (through
// api_query_auth; [ComponentServer.PushEvent] delivers the code). An app
// that authorized before keeps its fake and its users, and gets a new
// refresh token.
func (cs *ComponentServer) Authorize(appID string) (*Server, string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	a := cs.apps[appID]
	if a == nil {
		a = &authorizer{srv: newServer(appID, randomString(32, alnumAlphabet), cs.cfg)}
		cs.apps[appID] = a
	}
	a.authorized = true
	a.refresh = "refreshtoken@@@" + randomString(43, urlAlphabet)
	return a.srv, a.refresh
}

// Unauthorize withdraws appID's authorization: component jscode2session
// for it answers 61003 and its refresh token stops working (61023).
func (cs *ComponentServer) Unauthorize(appID string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if a := cs.apps[appID]; a != nil {
		a.authorized, a.refresh = false, ""
	}
}

// App returns the fake of the mini-program appID, or nil if it never
// authorized the component.
func (cs *ComponentServer) App(appID string) *Server {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if a := cs.apps[appID]; a != nil {
		return a.srv
	}
	return nil
}

// Calls returns how many requests the endpoint at path has received.
func (cs *ComponentServer) Calls(path string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.calls[path]
}

// FailNext makes the next request to the endpoint at path fail with
// errcode, as [Server.FailNext] does.
func (cs *ComponentServer) FailNext(path string, errcode int, opts ...FailOption) error {
	if errcode == 0 {
		return errors.New("wxauthtest: FailNext: errcode must not be 0")
	}
	if _, ok := componentEndpoints[path]; !ok {
		return fmt.Errorf("wxauthtest: no component endpoint at %q", path)
	}
	f := fault{errcode: errcode}
	for _, o := range opts {
		if o != nil {
			o(&f)
		}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.faults[path] = append(cs.faults[path], f)
	return nil
}

// serve is the server's HTTP handler.
func (cs *ComponentServer) serve(w http.ResponseWriter, r *http.Request) {
	ep, ok := componentEndpoints[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// The replies share Server's writers: any Server value will do.
	out := &Server{cfg: cs.cfg}
	cs.mu.Lock()
	cs.calls[r.URL.Path]++
	var f fault
	var injected bool
	if q := cs.faults[r.URL.Path]; len(q) > 0 {
		f, injected = q[0], true
		cs.faults[r.URL.Path] = q[1:]
	}
	cs.mu.Unlock()
	if !out.waitFor(r, cs.closed) {
		return
	}
	if injected {
		out.writeJSON(w, out.injected(f))
		return
	}
	if r.Method != ep.method {
		code := 43001
		if ep.method == http.MethodPost {
			code = 43002
		}
		out.writeJSON(w, out.apiError(code))
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyLen))
		if err != nil {
			writeText(w, http.StatusRequestEntityTooLarge)
			return
		}
	}
	out.writeJSON(w, ep.handle(cs, r.URL.Query(), body))
}

// waitFor sleeps for the configured latency, as wait does, until closed.
func (s *Server) waitFor(r *http.Request, closed <-chan struct{}) bool {
	if s.cfg.latency <= 0 {
		return true
	}
	t := time.NewTimer(s.cfg.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-closed:
	}
	return false
}

// apiError is WeChat's error reply for code.
func (cs *ComponentServer) apiError(code int) errReply {
	return (&Server{cfg: cs.cfg}).apiError(code)
}

// rotate issues a new plain token at now; the previous one stays valid
// for [TokenGrace], as /cgi-bin/token's does.
func (t *tokens) rotate(now time.Time) accessToken {
	if t.plain.value != "" {
		t.prev, t.prevUntil = t.plain, now.Add(TokenGrace)
	}
	t.plain = newAccessToken(now)
	return t.plain
}

// componentToken serves POST /cgi-bin/component/api_component_token
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html).
func (cs *ComponentServer) componentToken(_ url.Values, body []byte) any {
	var req struct {
		AppID  string `json:"component_appid"`
		Secret string `json:"component_appsecret"`
		Ticket string `json:"component_verify_ticket"`
	}
	if code := decodeBody(body, &req); code != 0 {
		return cs.apiError(code)
	}
	switch {
	case req.AppID == "":
		return cs.apiError(41002)
	case req.AppID != cs.appID:
		return cs.apiError(61011)
	case req.Secret == "":
		return cs.apiError(41004)
	case subtle.ConstantTimeCompare([]byte(req.Secret), []byte(cs.secret)) != 1:
		return cs.apiError(40125)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	now := cs.now()
	found := false
	for _, t := range cs.tickets {
		if sameToken(req.Ticket, t.value) {
			if !now.Before(t.issued.Add(TicketTTL)) {
				return cs.apiError(61005)
			}
			found = true
		}
	}
	if !found {
		return cs.apiError(61006)
	}
	t := cs.tokens.rotate(now)
	return struct {
		Token     string `json:"component_access_token"`
		ExpiresIn int    `json:"expires_in"`
	}{t.value, int(t.expires.Sub(now) / time.Second)}
}

// checkToken checks the component_access_token of a request. cs.mu must
// be held.
func (cs *ComponentServer) checkToken(q url.Values) int {
	return cs.tokens.check(q.Get("component_access_token"), cs.now())
}

// authorized returns appID's fake if it authorized the component, or the
// errcode to send. cs.mu must be held.
func (cs *ComponentServer) authorized(appID string) (*authorizer, int) {
	a := cs.apps[appID]
	if appID == "" {
		return nil, 41002
	}
	if a == nil || !a.authorized {
		return nil, 61003
	}
	return a, 0
}

// code2Session serves GET /sns/component/jscode2session
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/others/WeChat_login.html):
// 61003 for an app that has not authorized the component.
func (cs *ComponentServer) code2Session(q url.Values, _ []byte) any {
	cs.mu.Lock()
	if code := cs.checkToken(q); code != 0 {
		cs.mu.Unlock()
		return cs.apiError(code)
	}
	if q.Get("component_appid") != cs.appID {
		cs.mu.Unlock()
		return cs.apiError(61011)
	}
	a, code := cs.authorized(q.Get("appid"))
	cs.mu.Unlock()
	if code != 0 {
		return cs.apiError(code)
	}
	if q.Get("grant_type") != "authorization_code" {
		return cs.apiError(40002)
	}
	return a.srv.redeemCode(q.Get("js_code"))
}

// authorizerToken serves POST /cgi-bin/component/api_authorizer_token
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html):
// a new authorizer_access_token for the app each call, valid for
// [TokenTTL], the previous one for [TokenGrace] more; the refresh token
// comes back unchanged.
func (cs *ComponentServer) authorizerToken(q url.Values, body []byte) any {
	var req struct {
		AppID        string `json:"component_appid"`
		Authorizer   string `json:"authorizer_appid"`
		RefreshToken string `json:"authorizer_refresh_token"`
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if code := cs.checkToken(q); code != 0 {
		return cs.apiError(code)
	}
	if code := decodeBody(body, &req); code != 0 {
		return cs.apiError(code)
	}
	if req.AppID != cs.appID {
		return cs.apiError(61011)
	}
	a, code := cs.authorized(req.Authorizer)
	if code != 0 {
		return cs.apiError(code)
	}
	if req.RefreshToken == "" || !sameToken(req.RefreshToken, a.refresh) {
		return cs.apiError(61023)
	}
	now := cs.now()
	a.srv.mu.Lock()
	t := a.srv.tokens.rotate(now)
	a.srv.mu.Unlock()
	return struct {
		Token        string `json:"authorizer_access_token"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"authorizer_refresh_token"`
	}{t.value, int(t.expires.Sub(now) / time.Second), a.refresh}
}

// queryAuth serves POST /cgi-bin/component/api_query_auth
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/authorization_info.html):
// the authorization code of an authorized event, once, for the app's
// appid, a new authorizer_access_token and its refresh token. The codes of
// a bad authorization code (61009 invalid, 61010 expired) are those other
// SDKs' tables give; WeChat's page lists none.
func (cs *ComponentServer) queryAuth(q url.Values, body []byte) any {
	var req struct {
		AppID string `json:"component_appid"`
		Code  string `json:"authorization_code"`
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if code := cs.checkToken(q); code != 0 {
		return cs.apiError(code)
	}
	if code := decodeBody(body, &req); code != 0 {
		return cs.apiError(code)
	}
	if req.AppID != cs.appID {
		return cs.apiError(61011)
	}
	now := cs.now()
	c := cs.authCodes[req.Code]
	switch {
	case c == nil || c.used:
		return cs.apiError(61009)
	case !now.Before(c.issued.Add(AuthorizationCodeTTL)):
		return cs.apiError(61010)
	}
	a, code := cs.authorized(c.appID)
	if code != 0 {
		return cs.apiError(code)
	}
	c.used = true
	a.srv.mu.Lock()
	t := a.srv.tokens.rotate(now)
	a.srv.mu.Unlock()
	type info struct {
		AppID        string   `json:"authorizer_appid"`
		Token        string   `json:"authorizer_access_token"`
		ExpiresIn    int      `json:"expires_in"`
		RefreshToken string   `json:"authorizer_refresh_token"`
		FuncInfo     []string `json:"func_info"`
	}
	return struct {
		Info info `json:"authorization_info"`
	}{info{c.appID, t.value, int(t.expires.Sub(now) / time.Second), a.refresh, []string{}}}
}

// phoneNumber serves POST /wxa/business/getuserphonenumber with an
// authorizer_access_token: the app whose token it is answers, as its own
// endpoint does (40001 for a token of no app).
func (cs *ComponentServer) phoneNumber(q url.Values, body []byte) any {
	tok := q.Get("access_token")
	if tok == "" {
		return cs.apiError(41001)
	}
	cs.mu.Lock()
	apps := make([]*Server, 0, len(cs.apps))
	for _, a := range cs.apps {
		apps = append(apps, a.srv)
	}
	cs.mu.Unlock()
	for _, s := range apps {
		s.mu.Lock()
		code := s.tokens.check(tok, s.now())
		s.mu.Unlock()
		if code != 40001 {
			return s.phoneNumber(q, body)
		}
	}
	return cs.apiError(40001)
}

// Ticket returns the component_verify_ticket pushed last, or "" before the
// first push: for tests that check a ticket never shows in a log line.
func (cs *ComponentServer) Ticket() string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.tickets) == 0 {
		return ""
	}
	return cs.tickets[len(cs.tickets)-1].value
}
