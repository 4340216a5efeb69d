package qqauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/qqauth"
)

// FuzzCode2SessionReply feeds code2session any reply body: the client never
// panics, and a session it returns has what a session must have.
func FuzzCode2SessionReply(f *testing.F) {
	for _, s := range []string{
		`{"openid":"OPENID","session_key":"AAAAAAAAAAAAAAAAAAAAAA==","unionid":"U"}`,
		`{"errcode":40029,"errmsg":"invalid code"}`,
		`{"errcode":"-1","errmsg":"busy"}`,
		`{"errcode":1.5}`,
		`{"openid":"\u0000","session_key":"AAAAAAAAAAAAAAAAAAAAAA=="}`,
		`null`, ``, `{`, `[]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		mt := httpmock.NewMockTransport()
		mt.RegisterResponder(http.MethodGet, "https://api.q.qq.com/sns/jscode2session", httpmock.NewStringResponder(200, body))
		app, err := qqauth.New("1112345678", "secret-0123456789", qqauth.WithHTTPClient(&http.Client{Transport: mt}), qqauth.WithRetry(0))
		if err != nil {
			t.Fatal(err)
		}
		sess, err := app.Code2Session(context.Background(), "CODE_0123456789")
		if err != nil {
			var ae *qqauth.APIError
			if !errors.As(err, &ae) && !errors.Is(err, miniauth.ErrBadResponse) {
				t.Fatalf("error %v is neither an APIError nor ErrBadResponse", err)
			}
			return
		}
		if sess.OpenID == "" || sess.Platform != miniauth.QQ || crypto.CheckSessionKey(sess.SessionKey) != nil {
			t.Fatalf("unusable session %v", sess)
		}
	})
}
