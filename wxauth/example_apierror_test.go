package wxauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/jarcoal/httpmock"

	"github.com/wxmp/miniauth/wxauth"
)

// WeChat refuses with HTTP 200 and an errcode, which becomes an *APIError.
// Branch on the codes that matter with errors.Is and a sentinel; read the
// errcode and the request id (which WeChat's support asks for) with
// errors.As. Here WeChat answers with its per-user rate limit.
func ExampleAPIError() {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, wxauth.DefaultBaseURL+"/sns/jscode2session",
		httpmock.NewStringResponder(http.StatusOK, `{"errcode":45011,"errmsg":"api minute-quota reach limit  mustslower  retry next minute, rid: 6523f1a2-0c7e9a1b-5d4c3b2a"}`).
			HeaderSet(http.Header{"Content-Type": {"text/plain"}}))
	app, err := wxauth.New("wx4f4bc4dec97d474b", "0123456789abcdef0123456789abcdef",
		wxauth.WithHTTPClient(&http.Client{Transport: mt}))
	if err != nil {
		log.Fatal(err)
	}

	_, err = app.Code2Session(context.Background(), "081mX0Ga1RbZpF0k5VIa1HkM0X3mX0Gd")
	if errors.Is(err, wxauth.ErrRateLimited) {
		fmt.Println("too many logins: ask the user to wait a minute")
	}
	var apiErr *wxauth.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("op:", apiErr.Op)
		fmt.Println("errcode:", apiErr.Code)
		fmt.Println("rid:", apiErr.RID)
	}
	// Output:
	// too many logins: ask the user to wait a minute
	// op: code2session
	// errcode: 45011
	// rid: 6523f1a2-0c7e9a1b-5d4c3b2a
}
