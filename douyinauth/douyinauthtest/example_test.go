package douyinauthtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

// ExampleServer_FailNext makes Douyin busy once (retried by the client) and
// then refuse the app's secret.
func ExampleServer_FailNext() {
	douyin := douyinauthtest.NewServer("tt0123456789abcdef", "app-secret")
	defer douyin.Close()
	app, err := douyinauth.New("tt0123456789abcdef", "app-secret", douyinauth.WithBaseURL(douyin.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	code := douyin.Login("_000alice")

	_ = douyin.FailNext(douyinauthtest.PathCode2Session, -1) // system error: retried
	s, err := app.Code2Session(ctx, code)
	fmt.Println(s.OpenID, err, douyin.Calls(douyinauthtest.PathCode2Session))

	_ = douyin.FailNext(douyinauthtest.PathCode2Session, 40017) // bad secret
	_, err = app.Code2Session(ctx, douyin.Login("_000alice"))
	fmt.Println(errors.Is(err, miniauth.ErrInvalidCredential))
	// Output:
	// _000alice <nil> 2
	// true
}
