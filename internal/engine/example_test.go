package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/wxmp/miniauth/internal/engine"
)

// ksError is a platform's typed error (Kuaishou's result≠1 here).
type ksError struct {
	Op     string
	Result int
	Msg    string
}

func (e *ksError) Error() string {
	return fmt.Sprintf("ksauth: %s: result %d: %s", e.Op, e.Result, e.Msg)
}

// ksBase is the envelope of the endpoint: result 1 is success.
type ksBase struct {
	Result   int    `json:"result"`
	ErrorMsg string `json:"error_msg"`
}

func (r *ksBase) Failed() bool { return r.Result != 1 }

func (r *ksBase) Err(op string, s engine.Scrubber) (retry bool, err error) {
	return false, &ksError{Op: op, Result: r.Result, Msg: s.Scrub(r.ErrorMsg)}
}

type ksSession struct {
	ksBase
	OpenID     string `json:"open_id"`
	SessionKey string `json:"session_key"`
}

// Example shows a platform dialect on the engine: one Client built in the
// platform's New, a reply type per envelope, a Request per call.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("js_code") == "good-code" {
			_, _ = io.WriteString(w, `{"result":1,"open_id":"f19a","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`)
			return
		}
		_, _ = io.WriteString(w, `{"result":100200100,"error_msg":"invalid js_code `+r.PostFormValue("js_code")+`"}`)
	}))
	defer srv.Close()

	errBadResponse := errors.New("ksauth: malformed reply")
	const secret = "ks-app-secret-0123456789"
	eng, err := engine.New(engine.Config{
		Package: "ksauth", Upstream: "kuaishou",
		Secrets: []string{secret}, ErrBadResponse: errBadResponse,
	})
	if err != nil {
		panic(err)
	}
	code2Session := func(code string) (*ksSession, error) {
		var r ksSession
		err := eng.Do(context.Background(), engine.Request{
			Op: "code2session", Method: http.MethodPost, Base: srv.URL, Path: "/oauth2/mp/code2session",
			Form:    url.Values{"app_id": {"ks123"}, "app_secret": {secret}, "js_code": {code}},
			Secrets: []string{code},
		}, &r)
		if err != nil {
			return nil, err
		}
		if r.OpenID == "" {
			return nil, eng.BadReply("code2session", "no open_id")
		}
		return &r, nil
	}

	s, err := code2Session("good-code")
	fmt.Println(s.OpenID, err)
	_, err = code2Session("stolen-code-0123")
	fmt.Println(err)
	// Output:
	// f19a <nil>
	// ksauth: code2session: result 100200100: invalid js_code REDACTED
}
