package wxauth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/wxmock"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// lifeWalk is the outcome of walking the clock through token lifetimes.
type lifeWalk struct {
	calls, failed, fetches int
	tokens                 map[string]bool
}

// walkTokenLife walks one clock, read by the fake WeChat and (skew ahead of
// it) by the App, in steps of step for span, calling AccessToken and an API
// that needs the token (checksession) every 10 s, and waiting for any
// background refresh before the next step. before runs on the fake first.
func walkTokenLife(t *testing.T, before func(*wxauthtest.Server, *wxauthtest.Clock), step, span, skew time.Duration) lifeWalk {
	t.Helper()
	clk := wxauthtest.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	srv := wxauthtest.NewServer(testAppID, testSecret, wxauthtest.WithClock(clk.Now))
	t.Cleanup(srv.Close)
	if before != nil {
		before(srv, clk)
	}
	a, err := New(testAppID, testSecret, WithBaseURL(srv.URL), WithClock(func() time.Time { return clk.Now().Add(skew) }),
		WithBackoff(time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	sess, err := a.Code2Session(ctx, srv.Login("o-walk"))
	require.NoError(t, err)

	w := lifeWalk{tokens: map[string]bool{}}
	last := ""
	for elapsed := time.Duration(0); elapsed <= span; elapsed += step {
		w.calls++
		tok, err := a.AccessToken(ctx)
		if err == nil {
			w.tokens[tok] = true
			// Use it at the first step of every 10 s of the walk, and
			// whenever it changed.
			if tok != last || elapsed%(10*time.Second) < step {
				err = a.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey)
			}
			last = tok
		}
		if err != nil {
			w.failed++
			t.Logf("at +%v: %v", elapsed, err)
		}
		waitRefresh(a)
		clk.Advance(step)
	}
	w.fetches = srv.Calls(wxauthtest.PathStableToken)
	return w
}

// TestAccessTokenWholeLifetime walks the clock in 10 s (and 7 s, 1 s) steps
// through two whole lifetimes of a stable token and into the third, with the
// App's clock on WeChat's, or ahead or behind by a fraction of a second (the
// countdown in whole seconds then lands between steps): no call fails, and
// WeChat sees one stable_token request per token, made inside its renewal
// window (the last five minutes).
func TestAccessTokenWholeLifetime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ step, skew, age time.Duration }{
		{10 * time.Second, 0, 0},
		{10 * time.Second, 700 * time.Millisecond, 0},
		{10 * time.Second, -700 * time.Millisecond, 0},
		{7 * time.Second, 300 * time.Millisecond, 0},
		// The token was issued 3.6 s before the App's first fetch (by another
		// client): expires_in 7196 cuts 0.4 s off, so a refresh at exactly five
		// minutes before the App's idea of expiry would come 0.4 s before
		// WeChat's renewal window and get the old token back.
		{10 * time.Second, 0, 3600 * time.Millisecond},
		{time.Second, 0, 3600 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("step %v skew %v age %v", tc.step, tc.skew, tc.age), func(t *testing.T) {
			t.Parallel()
			if tc.step < 10*time.Second && testing.Short() {
				t.Skip("15,000 steps; -short runs the 10 s walks")
			}
			var before func(*wxauthtest.Server, *wxauthtest.Clock)
			if tc.age > 0 {
				before = func(srv *wxauthtest.Server, clk *wxauthtest.Clock) { srv.AccessToken(); clk.Advance(tc.age) }
			}
			w := walkTokenLife(t, before, tc.step, 2*7200*time.Second+10*time.Minute, tc.skew)
			t.Logf("step %v, skew %v, age %v: %d steps, %d failed, %d stable_token requests, %d tokens",
				tc.step, tc.skew, tc.age, w.calls, w.failed, w.fetches, len(w.tokens))
			assert.Zero(t, w.failed)
			assert.Equal(t, 3, len(w.tokens), "the first token, and one renewal at the end of each lifetime")
			assert.Equal(t, 3, w.fetches, "one request per token")
		})
	}
}

// TestAccessTokenLastMinutes is the walk of issue 11: the App starts in the
// last six minutes of a stable token another client fetched, and walks on
// through the next token's whole life.
func TestAccessTokenLastMinutes(t *testing.T) {
	t.Parallel()
	for _, left := range []time.Duration{6 * time.Minute, 5 * time.Minute, 4 * time.Minute, 30 * time.Second, 5 * time.Second} {
		t.Run(fmt.Sprint(left), func(t *testing.T) {
			t.Parallel()
			w := walkTokenLife(t, func(srv *wxauthtest.Server, clk *wxauthtest.Clock) {
				srv.AccessToken() // another client's fetch
				clk.Advance(7200*time.Second - left)
			}, 10*time.Second, left+7200*time.Second, 0)
			t.Logf("%v left: %d steps, %d failed, %d stable_token requests, %d tokens", left, w.calls, w.failed, w.fetches, len(w.tokens))
			assert.Zero(t, w.failed)
			assert.Equal(t, len(w.tokens), w.fetches, "one request per token")
			assert.LessOrEqual(t, w.fetches, 3)
		})
	}
}

// countdownUpstream is a stable_token endpoint that does not renew early:
// the same token until it expires, with expires_in counting down to 0 (the
// old fake; and what WeChat's countdown looks like to a client whose clock
// runs ahead of WeChat's). It serves on an httpmock transport.
type countdownUpstream struct {
	clk   *wxauthtest.Clock
	mu    sync.Mutex
	n     int
	tok   string
	exp   time.Time
	calls int
}

func (u *countdownUpstream) respond(*http.Request) (*http.Response, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls++
	now := u.clk.Now()
	if u.tok == "" || !now.Before(u.exp) {
		u.n++
		u.tok, u.exp = fmt.Sprintf("COUNTDOWN_TOKEN_%04d_abcdef", u.n), now.Add(7200*time.Second)
	}
	return wxmock.JSON(fmt.Sprintf(`{"access_token":%q,"expires_in":%d}`, u.tok, int(u.exp.Sub(now)/time.Second))), nil
}

// TestAccessTokenCountdownToZero walks the last minutes of a token whose
// upstream counts expires_in down to 0 and only then issues a new one, with
// eight concurrent callers at every step: no call fails (expires_in 0 or a few seconds is a token to use, not a
// malformed reply), and the client does not refetch at every step.
func TestAccessTokenCountdownToZero(t *testing.T) {
	t.Parallel()
	for _, step := range []time.Duration{10 * time.Second, time.Second, 100 * time.Millisecond} {
		t.Run(fmt.Sprint(step), func(t *testing.T) {
			t.Parallel()
			clk := wxauthtest.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
			up := &countdownUpstream{clk: clk}
			mt := httpmock.NewMockTransport()
			mt.RegisterResponder(http.MethodPost, wxmock.Base+"/cgi-bin/stable_token", up.respond)
			a, err := New(testAppID, testSecret, WithHTTPClient(&http.Client{Transport: mt}), WithClock(clk.Now))
			require.NoError(t, err)
			ctx := context.Background()

			_, err = a.AccessToken(ctx) // token 1, 7200 s
			require.NoError(t, err)
			clk.Advance(7200*time.Second - 6*time.Minute)
			var failed atomic.Int64
			calls := 0
			for elapsed := time.Duration(0); elapsed <= 12*time.Minute; elapsed += step {
				var wg sync.WaitGroup
				for range 8 { // concurrent callers at every step
					calls++
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := a.AccessToken(ctx); err != nil {
							failed.Add(1)
							t.Logf("at +%v: %v", elapsed, err)
						}
					}()
				}
				wg.Wait()
				waitRefresh(a)
				clk.Advance(step)
			}
			up.mu.Lock()
			fetches := up.calls
			up.mu.Unlock()
			t.Logf("step %v: %d calls, %d failed, %d stable_token requests", step, calls, failed.Load(), fetches)
			assert.Zero(t, failed.Load())
			assert.LessOrEqual(t, fetches, 12, "no refetch storm near expiry")
		})
	}
}

// TestAccessTokenExpiresInZero: a reply with expires_in 0 (a token in its
// last second) is no error. A caller who holds a valid token keeps it (the
// dying one does not replace it) and later calls do not ask again at once;
// a caller with no valid token gets the dying one rather than an error.
func TestAccessTokenExpiresInZero(t *testing.T) {
	t.Parallel()
	a, up, clk, _ := testApp(t)
	ctx := context.Background()
	tok, err := a.AccessToken(ctx)
	require.NoError(t, err)
	require.Equal(t, wxmock.Token(1), tok)

	up.SetExpiresIn(0)
	clk.Advance(7200*time.Second - time.Minute) // due, valid for another minute
	for i := range 30 {
		tok, err := a.AccessToken(ctx)
		require.NoError(t, err)
		assert.Equal(t, wxmock.Token(1), tok, "call %d: the token held, not the dying one", i)
		waitRefresh(a)
		clk.Advance(time.Second)
	}
	assert.LessOrEqual(t, up.Fetches(), 4, "30 calls in the last minute: a few tries, not one per call")

	clk.Advance(time.Minute) // token 1 has expired
	tok, err = a.AccessToken(ctx)
	require.NoError(t, err, "expires_in 0 is a token, not a malformed reply")
	assert.NotEqual(t, wxmock.Token(1), tok)

	up.SetExpiresIn(7200)
	clk.Advance(2 * time.Second) // the dying token is gone: the next call fetches a good one
	tok, err = a.AccessToken(ctx)
	require.NoError(t, err)
	fetches := up.Fetches()
	for range 10 {
		again, err := a.AccessToken(ctx)
		require.NoError(t, err)
		assert.Equal(t, tok, again)
	}
	assert.Equal(t, fetches, up.Fetches(), "the new token is cached")
}
