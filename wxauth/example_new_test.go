package wxauth_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/wxmp/miniauth/wxauth"
)

// A production server reads the appid and secret from its configuration
// (literals here) and usually sets a timeout, a retry count and a logger. The client prints
// only its appid, never the secret.
func ExampleNew() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil)) // its lines never carry a secret or a query
	app, err := wxauth.New("wx4f4bc4dec97d474b", "0123456789abcdef0123456789abcdef",
		wxauth.WithTimeout(3*time.Second), // per attempt; the call's ctx bounds the whole call
		wxauth.WithRetry(2),               // errcode -1, HTTP 5xx and failed connections
		wxauth.WithLogger(logger),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(app.AppID())
	fmt.Println(app)

	// Missing configuration is an error, not a client that fails later.
	_, err = wxauth.New("wx4f4bc4dec97d474b", "")
	fmt.Println(err)
	// Output:
	// wx4f4bc4dec97d474b
	// wxauth.App{AppID: "wx4f4bc4dec97d474b"}
	// wxauth: secret must not be empty
}

// Unit tests give the client an http.Client of their own whose transport is
// an httpmock mock: each test has its own, so tests may run in parallel.
// WeChat serves its JSON as text/plain; the reply below does the same.
func ExampleWithHTTPClient() {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, wxauth.DefaultBaseURL+"/sns/jscode2session",
		httpmock.NewStringResponder(http.StatusOK, `{"openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`).
			HeaderSet(http.Header{"Content-Type": {"text/plain"}}))

	app, err := wxauth.New("wx4f4bc4dec97d474b", "0123456789abcdef0123456789abcdef",
		wxauth.WithHTTPClient(&http.Client{Transport: mt}))
	if err != nil {
		log.Fatal(err)
	}
	sess, err := app.Code2Session(context.Background(), "081mX0Ga1RbZpF0k5VIa1HkM0X3mX0Gd")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.OpenID)
	fmt.Println("requests:", mt.GetTotalCallCount())
	// Output:
	// oGZUI0egBJY1zhBYw2KhdUfwVJJE
	// requests: 1
}
