package wxauthtest

import (
	"crypto/subtle"
	"net/url"
	"time"
)

// How /cgi-bin/stable_token behaves, from WeChat's getStableAccessToken page
// (https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html,
// the same text for mini-programs at
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html):
// in normal mode, calls within the token's validity return the same token,
// and "the platform renews the access_token 5 minutes early: a call in the
// last 5 minutes of the countdown gets a new access_token", while the old
// one stays valid until it expires; force_refresh mode invalidates the
// previous token and returns a new one, "at most 20 times a day", and
// consecutive forced calls "at least 30 s apart, or nothing is refreshed".
const (
	// StableTokenRenewal is how long before a stable token expires that
	// normal mode hands out its successor. The old token stays valid until
	// its own expiry, so the two overlap for this long.
	StableTokenRenewal = 5 * time.Minute
	// ForceRefreshPerDay is how many force_refresh calls a day (Beijing
	// time) replace the stable token; the next is refused with errcode 45009.
	ForceRefreshPerDay = 20
	// ForceRefreshInterval is how long after a forced refresh another
	// force_refresh replaces nothing: it returns the current token.
	ForceRefreshInterval = 30 * time.Second
)

// beijing is the time zone WeChat's daily quotas reset in.
var beijing = time.FixedZone("CST", 8*60*60)

// accessToken is an issued access_token.
type accessToken struct {
	value   string
	expires time.Time
}

// tokens is the app's access_token state. Only the tokens that can still be
// valid are kept: the latest and the previous plain token, and the current
// stable token and the one it succeeded in normal mode.
type tokens struct {
	plain     accessToken // latest from /cgi-bin/token
	prev      accessToken // the one before it, valid until prevUntil
	prevUntil time.Time

	stable     accessToken // current /cgi-bin/stable_token token
	stablePrev accessToken // the one normal mode renewed, valid until its own expiry

	forcedDay string    // Beijing date of the forced refreshes counted in forced
	forced    int       // forced refreshes on forcedDay
	lastForce time.Time // the latest forced refresh
}

func newAccessToken(now time.Time) accessToken {
	return accessToken{value: randomString(64, urlAlphabet), expires: now.Add(TokenTTL)}
}

// check returns the errcode an API sends for the access_token tok at now, or 0.
func (t *tokens) check(tok string, now time.Time) int {
	if tok == "" {
		return 41001
	}
	var match accessToken
	var until time.Time // zero: no limit but expiry
	switch {
	case sameToken(tok, t.plain.value):
		match = t.plain
	case sameToken(tok, t.stable.value):
		match = t.stable
	case sameToken(tok, t.stablePrev.value):
		match = t.stablePrev
	case sameToken(tok, t.prev.value):
		match, until = t.prev, t.prevUntil
	default:
		return 40001
	}
	switch {
	case !until.IsZero() && !now.Before(until):
		return 40001 // replaced, grace over: "not latest"
	case !now.Before(match.expires):
		return 42001
	}
	return 0
}

// sameToken compares a presented token with an issued one in constant time.
func sameToken(presented, issued string) bool {
	return issued != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(issued)) == 1
}

// stableToken returns the stable token at now as normal mode hands it out:
// the current one, or a new one when there is none, it has expired, or it is
// within [StableTokenRenewal] of its expiry (the old one then stays valid
// until its own expiry). s.mu must be held.
func (t *tokens) stableToken(now time.Time) accessToken {
	switch {
	case t.stable.value == "" || !now.Before(t.stable.expires):
		t.stable, t.stablePrev = newAccessToken(now), accessToken{}
	case !now.Before(t.stable.expires.Add(-StableTokenRenewal)):
		t.stable, t.stablePrev = newAccessToken(now), t.stable
	}
	return t.stable
}

// forceStableToken serves force_refresh: a new stable token that invalidates
// the previous ones at once, at most [ForceRefreshPerDay] times a Beijing
// day (then errcode 45009), and no sooner than [ForceRefreshInterval] after
// the last one (until then the current token is returned unchanged). s.mu
// must be held.
func (t *tokens) forceStableToken(now time.Time) (accessToken, int) {
	if day := now.In(beijing).Format(time.DateOnly); day != t.forcedDay {
		t.forcedDay, t.forced = day, 0
	}
	if t.forced >= ForceRefreshPerDay {
		return accessToken{}, 45009
	}
	if !t.lastForce.IsZero() && now.Sub(t.lastForce) < ForceRefreshInterval {
		return t.stableToken(now), 0
	}
	t.forced++
	t.lastForce = now
	t.stable, t.stablePrev = newAccessToken(now), accessToken{}
	return t.stable, 0
}

// AccessToken returns an access_token the server accepts, as
// /cgi-bin/stable_token in normal mode would hand out: the current stable
// token, or its successor in the last [StableTokenRenewal] of its life. It
// is for tests that give the code under test a fixed token instead of
// fetching one.
func (s *Server) AccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens.stableToken(s.now()).value
}

// tokenReply is the success of both token endpoints.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// replyFor returns the reply for t at now: expires_in counts down, in whole
// seconds, as WeChat's does.
func replyFor(t accessToken, now time.Time) tokenReply {
	return tokenReply{AccessToken: t.value, ExpiresIn: int(t.expires.Sub(now) / time.Second)}
}

// token serves GET /cgi-bin/token: a new token each call; the previous one
// stays valid for [TokenGrace].
func (s *Server) token(q url.Values, _ []byte) any {
	if code := s.checkApp(q.Get("appid"), q.Get("secret"), q.Get("grant_type"), "client_credential"); code != 0 {
		return s.apiError(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := &s.tokens
	if t.plain.value != "" {
		t.prev, t.prevUntil = t.plain, now.Add(TokenGrace)
	}
	t.plain = newAccessToken(now)
	return replyFor(t.plain, now)
}

// stableToken serves POST /cgi-bin/stable_token.
func (s *Server) stableToken(_ url.Values, body []byte) any {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if code := decodeBody(body, &req); code != 0 {
		return s.apiError(code)
	}
	if code := s.checkApp(req.AppID, req.Secret, req.GrantType, "client_credential"); code != 0 {
		return s.apiError(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !req.ForceRefresh {
		return replyFor(s.tokens.stableToken(now), now)
	}
	t, code := s.tokens.forceStableToken(now)
	if code != 0 {
		return s.apiError(code)
	}
	return replyFor(t, now)
}
