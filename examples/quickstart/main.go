// Command quickstart runs the whole WeChat mini-program login flow on one
// machine, against the fake WeChat of package wxauthtest: no credentials, no
// network. It plays both sides and prints each step:
//
//   - the mini-program: wx.login (a code) and wx.getUserProfile (rawData,
//     signature, encryptedData, iv);
//   - the server: Code2Session, VerifySignature, Decrypt, then its own login
//     token from session.Manager, and a request through the Middleware.
//
// Run it from the repository root:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	appID  = "wx1234567890abcdef"
	secret = "quickstart-secret-not-a-real-one"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	step := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	// A fake WeChat API on a local port; in production this is api.weixin.qq.com.
	wechat, err := wxauthtest.Start(appID, secret)
	if err != nil {
		return err
	}
	defer wechat.Close()
	wechat.AddUser(wxauthtest.User{OpenID: "oQuickstartUser0000000000001", NickName: "Alice", City: "Shenzhen"})

	// --- the mini-program ---
	code := wechat.Login("oQuickstartUser0000000000001") // wx.login()
	step("1. mini-program: wx.login() gave a one-time code (%d characters)", len(code))
	profile, err := wechat.Profile("oQuickstartUser0000000000001") // wx.getUserProfile()
	if err != nil {
		return err
	}
	step("2. mini-program: wx.getUserProfile() gave rawData, signature and %d bytes of encryptedData", len(profile.EncryptedData))

	// --- the server ---
	app, err := wxauth.New(appID, secret, wxauth.WithBaseURL(wechat.URL))
	if err != nil {
		return err
	}
	sess, err := app.Code2Session(ctx, code)
	if err != nil {
		return err
	}
	step("3. server: Code2Session -> openid %s (the session_key stays on the server: %v)", sess.OpenID, sess)

	if err := app.VerifySignature(sess.SessionKey, profile.RawData, profile.Signature); err != nil {
		return err
	}
	step("4. server: VerifySignature -> rawData is signed with this user's session_key")

	var user wxauth.UserInfo
	if err := app.Decrypt(sess.SessionKey, profile.EncryptedData, profile.IV, &user); err != nil {
		return err
	}
	if user.OpenID != sess.OpenID {
		return errors.New("decrypted data belongs to another user")
	}
	step("5. server: Decrypt -> %s from %s, watermark appid %s", user.NickName, user.City, user.Watermark.AppID)

	// A code works once: replaying it is refused.
	if _, err := app.Code2Session(ctx, code); errors.Is(err, wxauth.ErrCodeUsed) {
		step("6. server: the same code again -> refused (%v)", err)
	} else {
		return fmt.Errorf("replayed code: want ErrCodeUsed, got %v", err)
	}

	// The app's own login token: opaque, random, expiring; the client gets
	// this, never the session_key.
	sessions := session.NewManager(nil)
	defer sessions.Close()
	token, err := sessions.Issue(ctx, sess)
	if err != nil {
		return err
	}
	step("7. server: session.Manager.Issue -> an opaque token of %d characters for the client (valid %s)", len(token), sessions.TTL())

	// A later request carries the token; the middleware puts the record in
	// the request context.
	me := sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", rec.OpenID)
	}))
	for _, auth := range []string{"Bearer " + token, "Bearer forged-token"} {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/me", nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		me.ServeHTTP(rec, req)
		label := "with the token"
		if auth != "Bearer "+token {
			label = "with a forged token"
		}
		step("8. client: GET /api/me %s -> %d %s", label, rec.Code, rec.Body.String())
	}
	return nil
}
