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
