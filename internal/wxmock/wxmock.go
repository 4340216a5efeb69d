// Package wxmock fakes WeChat's token endpoints and one token-guarded API on
// a per-test httpmock transport, for the tests of wxauth and its token
// stores. It counts the token fetches, which is what those tests assert.
package wxmock

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// Base is the address the transport answers for: wxauth's default.
const Base = "https://api.weixin.qq.com"

// Upstream is a fake WeChat. Every token fetch issues a new token
// (Token(1), Token(2), ...) valid for ExpiresIn seconds, unless SameToken
// is set (stable_token's normal mode before expiry).
type Upstream struct {
	mt *httpmock.MockTransport

	mu        sync.Mutex
	issued    int // number of the latest token
	fetches   int
	failBody  string
	expiresIn int
	same      bool
	hold      chan struct{}
	revoked   map[string]bool
	last      *http.Request
	lastBody  string
}

// New returns an Upstream answering POST /cgi-bin/stable_token, GET
// /cgi-bin/token and GET /wxa/checksession (errcode 0 for a token it issued
// and did not revoke, 40001 otherwise).
func New() *Upstream {
	u := &Upstream{mt: httpmock.NewMockTransport(), expiresIn: 7200, revoked: map[string]bool{}}
	u.mt.RegisterResponder(http.MethodPost, Base+"/cgi-bin/stable_token", u.token)
	u.mt.RegisterResponder(http.MethodGet, Base+"/cgi-bin/token", u.token)
	u.mt.RegisterResponder(http.MethodGet, Base+"/wxa/checksession", func(r *http.Request) (*http.Response, error) {
		if !u.Valid(r.URL.Query().Get("access_token")) {
			return JSON(`{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest rid: 1"}`), nil
		}
		return JSON(`{"errcode":0,"errmsg":"ok"}`), nil
	})
	return u
}

// Token returns the n-th token the fake issues (from 1).
func Token(n int) string { return fmt.Sprintf("ACCESS_TOKEN_%06d_Zq9xWv", n) }

// JSON returns a 200 reply with body, served as text/plain like WeChat does.
func JSON(body string) *http.Response {
	r := httpmock.NewStringResponse(http.StatusOK, body)
	r.Header.Set("Content-Type", "text/plain")
	return r
}

func (u *Upstream) token(r *http.Request) (*http.Response, error) {
	u.mu.Lock()
	hold := u.hold
	u.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<16))
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fetches++
	u.last, u.lastBody = r, string(body)
	if u.failBody != "" {
		return JSON(u.failBody), nil
	}
	if !u.same || u.issued == 0 {
		u.issued++
	}
	return JSON(fmt.Sprintf(`{"access_token":%q,"expires_in":%d}`, Token(u.issued), u.expiresIn)), nil
}

// Transport is the mock transport, for registering more responders.
func (u *Upstream) Transport() *httpmock.MockTransport { return u.mt }

// Client returns an *http.Client on the mock transport.
func (u *Upstream) Client() *http.Client { return &http.Client{Transport: u.mt} }

// Fetches returns how many token requests the fake answered.
func (u *Upstream) Fetches() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.fetches
}

// SetTokenError makes token requests answer body (an errcode reply) instead
// of a token; "" restores tokens.
func (u *Upstream) SetTokenError(body string) { u.mu.Lock(); u.failBody = body; u.mu.Unlock() }

// SetExpiresIn sets the expires_in of the next tokens.
func (u *Upstream) SetExpiresIn(s int) { u.mu.Lock(); u.expiresIn = s; u.mu.Unlock() }

// SetSameToken makes later fetches return the latest token again.
func (u *Upstream) SetSameToken(same bool) { u.mu.Lock(); u.same = same; u.mu.Unlock() }

// Hold makes token requests wait until release is called.
func (u *Upstream) Hold() (release func()) {
	ch := make(chan struct{})
	u.mu.Lock()
	u.hold = ch
	u.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			u.hold = nil
			u.mu.Unlock()
			close(ch)
		})
	}
}

// Revoke makes the fake refuse tok from now on (errcode 40001).
func (u *Upstream) Revoke(tok string) { u.mu.Lock(); u.revoked[tok] = true; u.mu.Unlock() }

// Valid reports whether tok was issued by the fake and not revoked.
func (u *Upstream) Valid(tok string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for n := 1; n <= u.issued; n++ {
		if Token(n) == tok {
			return !u.revoked[tok]
		}
	}
	return false
}

// Last returns the latest token request and its body.
func (u *Upstream) Last() (*http.Request, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last, u.lastBody
}

// Clock is the manual clock of package wxauthtest.
type Clock = wxauthtest.Clock

// NewClock returns a Clock set to the real time now, so that what Redis
// expires by its own clock stays in the future.
func NewClock() *Clock { return wxauthtest.NewClock(time.Now()) }
