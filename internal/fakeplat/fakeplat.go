// Package fakeplat is the common core of the fake platform servers
// (qqauthtest, kuaishouauthtest, wecomauthtest, douyinauthtest): a local
// HTTP server whose endpoints a fake declares by path and method, with call
// counts, queued fault injection, a latency, a clock, and single-use codes;
// the fakes' options ([Settings]), their registry of users with session
// keys and login codes ([Users]), their access tokens and how a fetch
// rotates them ([Tokens]), and the sealing of what the mini-program
// receives ([Seal]). Each fake adds its platform's wire on top: paths,
// parameters, reply shapes, error envelopes and codes.
package fakeplat

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/wxmp/miniauth/crypto"
)

// MaxBodyLen caps request bodies.
const MaxBodyLen = 1 << 20

// Request is what an endpoint's handler receives.
type Request struct {
	Method string
	Query  url.Values
	// Form is the request's x-www-form-urlencoded body, parsed; empty for
	// another content type.
	Form   url.Values
	Body   []byte
	Header http.Header
}

// Reply is an endpoint's answer: a JSON body with an HTTP status (0 means 200).
type Reply struct {
	Status int
	Body   any
}

// Endpoint is one API a fake serves. Method is the method it documents;
// Handle serves every method, and a platform that answers a wrong method
// with an error envelope does so in Handle.
type Endpoint struct {
	Method string
	Handle func(r *Request) Reply
}

// Config is what a fake passes to [Start].
type Config struct {
	// Endpoints maps each path to its API; it is not modified.
	Endpoints map[string]Endpoint
	// Now is the fake's clock (nil: time.Now).
	Now func() time.Time
	// Latency delays every reply by real time.
	Latency time.Duration
	// ContentType of JSON replies (default "application/json").
	ContentType string
}

// Core is a running fake. Its methods are safe for concurrent use.
type Core struct {
	// URL is the base URL, http://127.0.0.1:port.
	URL string

	cfg    Config
	ts     *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu     sync.Mutex
	calls  map[string]int
	faults map[string][]Reply
}

// Start starts a fake on a local port.
func Start(cfg Config) (*Core, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "application/json"
	}
	if cfg.Latency < 0 {
		return nil, errors.New("latency must not be negative")
	}
	c := &Core{cfg: cfg, closed: make(chan struct{}), calls: map[string]int{}, faults: map[string][]Reply{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return nil, fmt.Errorf("cannot listen on a local port: %w", err)
		}
	}
	c.ts = &httptest.Server{
		Listener: l,
		Config:   &http.Server{Handler: http.HandlerFunc(c.serve), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: MaxBodyLen},
	}
	c.ts.Start()
	c.URL = c.ts.URL
	return c, nil
}

// Close shuts the fake down; it may be called more than once.
func (c *Core) Close() {
	c.once.Do(func() {
		close(c.closed)
		c.ts.Close()
	})
}

// Now reads the fake's clock.
func (c *Core) Now() time.Time { return c.cfg.Now() }

// Calls returns how many requests path has received, failed ones included.
func (c *Core) Calls(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[path]
}

// AddFault queues r as the reply to the next request to path, which then
// has no other effect. A path the fake does not serve is an error.
func (c *Core) AddFault(path string, r Reply) error {
	if _, ok := c.cfg.Endpoints[path]; !ok {
		return fmt.Errorf("no endpoint at %q", path)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults[path] = append(c.faults[path], r)
	return nil
}

func (c *Core) takeFault(path string) (Reply, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.faults[path]
	if len(q) == 0 {
		return Reply{}, false
	}
	if len(q) == 1 {
		delete(c.faults, path)
	} else {
		c.faults[path] = q[1:]
	}
	return q[0], true
}

func (c *Core) serve(w http.ResponseWriter, r *http.Request) {
	ep, ok := c.cfg.Endpoints[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	c.mu.Lock()
	c.calls[r.URL.Path]++
	c.mu.Unlock()
	if !c.wait(r) {
		return
	}
	if f, ok := c.takeFault(r.URL.Path); ok {
		c.write(w, f)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyLen))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeText(w, http.StatusRequestEntityTooLarge)
		}
		return
	}
	req := &Request{Method: r.Method, Query: r.URL.Query(), Body: body, Header: r.Header, Form: url.Values{}}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "application/x-www-form-urlencoded" && len(body) > 0 {
		if f, err := url.ParseQuery(string(body)); err == nil {
			req.Form = f
		}
	}
	c.write(w, ep.Handle(req))
}

// wait sleeps for the latency; false when the client or the server gave up.
func (c *Core) wait(r *http.Request) bool {
	if c.cfg.Latency <= 0 {
		return true
	}
	t := time.NewTimer(c.cfg.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-c.closed:
	}
	return false
}

func (c *Core) write(w http.ResponseWriter, r Reply) {
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	if r.Body == nil {
		writeText(w, status)
		return
	}
	b, err := json.Marshal(r.Body)
	if err != nil {
		writeText(w, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", c.cfg.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeText(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

// Alphabets for [RandomString].
const (
	Alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	URLSafe = Alnum + "-_"
)

// Hex is the alphabet of lower-case hexadecimal.
const Hex = "0123456789abcdef"

// RandomString returns n characters drawn uniformly from alphabet (1 to
// 256 bytes).
func RandomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	b := make([]byte, n)
	for len(out) < n {
		_, _ = rand.Read(b) // never fails (Go 1.24+)
		for _, c := range b {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// RandomKey returns a new session key: base64 of n random bytes.
func RandomKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// CodeState is what [Codes.Take] found.
type CodeState int

// States of a code.
const (
	CodeOK      CodeState = iota // valid: now used up
	CodeUnknown                  // never issued, or expired
	CodeUsed                     // issued and already exchanged
	CodeLimited                  // valid, but its user is over the rate limit: not used up
	CodeExpired                  // issued, past its lifetime (with [Codes.ReportExpired])
)

// Codes are single-use codes with a lifetime, each standing for a subject
// (an openid, a userid). It is safe for concurrent use.
type Codes struct {
	ttl time.Duration
	now func() time.Time

	keep time.Duration // how long past its lifetime a code is remembered
	// expired reports such a code as CodeExpired rather than CodeUnknown.
	expired bool

	mu    sync.Mutex
	codes map[string]*code
}

type code struct {
	subject string
	issued  time.Time
	used    bool
}

// NewCodes returns an empty set of codes valid for ttl on the clock now.
func NewCodes(ttl time.Duration, now func() time.Time) *Codes {
	return &Codes{ttl: ttl, now: now, codes: map[string]*code{}}
}

// ReportExpired makes cs tell an expired code ([CodeExpired]) from one it
// never issued, for a lifetime more (after that it forgets it), as a
// platform that says "expired or used" does; it returns cs. Call it before
// cs is used.
func (cs *Codes) ReportExpired() *Codes {
	cs.keep, cs.expired = cs.ttl, true
	return cs
}

// Issue returns a new code of n characters of [Alnum] for subject.
func (cs *Codes) Issue(subject string, n int) string {
	return cs.IssueOf(subject, n, Alnum)
}

// IssueOf returns a new code of n characters of alphabet for subject.
func (cs *Codes) IssueOf(subject string, n int, alphabet string) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	now := cs.now()
	for k, c := range cs.codes { // sweep what can no longer be exchanged
		if !now.Before(c.issued.Add(cs.ttl + cs.keep)) {
			delete(cs.codes, k)
		}
	}
	v := RandomString(n, alphabet)
	cs.codes[v] = &code{subject: subject, issued: now}
	return v
}

// Peek returns code's subject and state without using it up.
func (cs *Codes) Peek(v string) (string, CodeState) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.peek(v)
}

func (cs *Codes) peek(v string) (string, CodeState) {
	c := cs.codes[v]
	if c == nil {
		return "", CodeUnknown
	}
	if now := cs.now(); !now.Before(c.issued.Add(cs.ttl)) {
		if !cs.expired || !now.Before(c.issued.Add(cs.ttl+cs.keep)) {
			return "", CodeUnknown
		}
		return c.subject, CodeExpired
	}
	if c.used {
		return c.subject, CodeUsed
	}
	return c.subject, CodeOK
}

// Take uses code up and returns its subject, or the state that refuses it.
func (cs *Codes) Take(v string) (string, CodeState) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	s, st := cs.peek(v)
	if st == CodeOK {
		cs.codes[v].used = true
	}
	return s, st
}

// Seal encrypts plain under the session_key key (AES-128-CBC, as WeChat
// and the platforms that copied it do) with a new random iv, and returns
// the base64 ciphertext and iv: the encryptedData and iv the mini-program
// receives.
func Seal(key string, plain []byte) (data, iv string, err error) {
	iv = RandomKey(16)
	data, err = crypto.Encrypt(key, iv, plain)
	if err != nil {
		return "", "", err
	}
	return data, iv, nil
}

// FailStatus queues an HTTP status (300 to 599) with a plain-text body as
// the reply to the next request to path, for a fake's FailNextStatus;
// name is the fake's package, for errors.
func (c *Core) FailStatus(name, path string, status int) error {
	if status < 300 || status > 599 {
		return fmt.Errorf("%s: FailNextStatus: status must be 300 to 599, got %d", name, status)
	}
	return c.Fail(name, path, Reply{Status: status})
}

// Fail is [Core.AddFault] with the fake's package name on its error.
func (c *Core) Fail(name, path string, r Reply) error {
	if err := c.AddFault(path, r); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
