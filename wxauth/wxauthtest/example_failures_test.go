package wxauthtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// FailNextStatus makes the next call fail with an HTTP status, as a broken
// gateway would: wxauth retries a 502, and Calls shows both requests.
func ExampleServer_FailNextStatus() {
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret")
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	if err := srv.FailNextStatus(wxauthtest.PathCode2Session, http.StatusBadGateway); err != nil {
		log.Fatal(err)
	}
	sess, err := app.Code2Session(context.Background(), srv.Login("o-dave"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.OpenID)
	fmt.Println("calls:", srv.Calls(wxauthtest.PathCode2Session))
	// Output:
	// o-dave
	// calls: 2
}

// WithLatency slows every reply, for tests of timeouts: a client whose
// timeout is shorter gives up, and its error matches
// context.DeadlineExceeded. (A timeout is not retried: the request may have
// reached WeChat.)
func ExampleWithLatency() {
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret", wxauthtest.WithLatency(2*time.Second))
	defer srv.Close() // also ends the waits at once
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL),
		wxauth.WithTimeout(50*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}

	_, err = app.Code2Session(context.Background(), srv.Login("o-erin"))
	fmt.Println("timed out:", errors.Is(err, context.DeadlineExceeded))
	// Output: timed out: true
}

// FailNext with WithErrMsg sends WeChat's own text: here 40164, the refusal
// of a server whose IP is not in the app's whitelist, which names the IP.
// wxauth keeps the text and matches the code to ErrNotAllowed.
func ExampleWithErrMsg() {
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret")
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	err = srv.FailNext(wxauthtest.PathStableToken, 40164,
		wxauthtest.WithErrMsg("invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = app.AccessToken(context.Background())
	var ae *wxauth.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.Code, ae.Msg)
	}
	fmt.Println("operator must act:", errors.Is(err, wxauth.ErrNotAllowed))
	// Output:
	// 40164 invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist
	// operator must act: true
}

// WithSessionKeyTTL makes session keys expire, as WeChat's do after a while:
// checksession then refuses the key (87009), and so does
// resetusersessionkey (87007), both ErrSessionKeyExpired for wxauth, until
// the user logs in again.
func ExampleWithSessionKeyTTL() {
	clk := wxauthtest.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	srv := wxauthtest.NewServer("wx0123456789abcdef", "app-secret",
		wxauthtest.WithClock(clk.Now), wxauthtest.WithSessionKeyTTL(72*time.Hour))
	defer srv.Close()
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithBaseURL(srv.URL), wxauth.WithClock(clk.Now))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	sess, err := app.Code2Session(ctx, srv.Login("o-frank"))
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("now:", app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey))
	clk.Advance(72 * time.Hour)
	err = app.CheckSessionKey(ctx, sess.OpenID, sess.SessionKey)
	fmt.Println("in three days, expired:", errors.Is(err, wxauth.ErrSessionKeyExpired))
	_, err = app.ResetSessionKey(ctx, sess.OpenID, sess.SessionKey)
	fmt.Println("reset refused:", errors.Is(err, wxauth.ErrSessionKeyExpired))
	// Output:
	// now: <nil>
	// in three days, expired: true
	// reset refused: true
}
