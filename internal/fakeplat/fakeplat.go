// Package fakeplat is the common core of the fake platform servers
// (qqauthtest, kuaishouauthtest, wecomauthtest): a local HTTP server whose
// endpoints a fake declares by path and method, with call counts, queued
// fault injection, a latency, a clock, and single-use codes. Each fake adds
// its platform's wire on top: parameters, reply shapes, error envelopes.
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

// RandomString returns n random characters of alphabet.
func RandomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
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
)

// Codes are single-use codes with a lifetime, each standing for a subject
// (an openid, a userid). It is safe for concurrent use.
type Codes struct {
	ttl time.Duration
	now func() time.Time

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

// Issue returns a new code of n characters for subject.
func (cs *Codes) Issue(subject string, n int) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	now := cs.now()
	for k, c := range cs.codes { // sweep what can no longer be exchanged
		if !now.Before(c.issued.Add(cs.ttl)) {
			delete(cs.codes, k)
		}
	}
	v := RandomString(n, Alnum)
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
	if c == nil || !cs.now().Before(c.issued.Add(cs.ttl)) {
		return "", CodeUnknown
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
