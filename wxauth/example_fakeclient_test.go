package wxauth_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/wxmp/miniauth/wxauth"
)

// login is application code that needs WeChat. It takes the wxauth.Client
// interface rather than *wxauth.App, so that its tests can hand in a fake.
func login(ctx context.Context, wx wxauth.Client, code string) (string, error) {
	sess, err := wx.Code2Session(ctx, code)
	switch {
	case errors.Is(err, wxauth.ErrInvalidCode), errors.Is(err, wxauth.ErrCodeUsed):
		return "", errors.New("login: call wx.login again")
	case err != nil:
		return "", fmt.Errorf("login: %w", err)
	}
	return sess.OpenID, nil
}

// fakeWeChatClient is a hand-written wxauth.Client for tests: it knows a
// fixed set of codes, and refuses any other as WeChat would (errcode 40029).
type fakeWeChatClient struct {
	users map[string]string // code -> openid
}

var _ wxauth.Client = fakeWeChatClient{}

func (f fakeWeChatClient) Code2Session(_ context.Context, code string) (*wxauth.Session, error) {
	openID, ok := f.users[code]
	if !ok {
		return nil, &wxauth.APIError{Op: "code2session", Code: 40029, Msg: "invalid code"}
	}
	return &wxauth.Session{OpenID: openID, SessionKey: "tiihtNczf5v6AKRyjwEUhQ=="}, nil
}

// The code under test never checks signatures or decrypts: the fake refuses
// both rather than accept anything.
func (fakeWeChatClient) VerifySignature(sessionKey, rawData, signature string) error {
	return errors.ErrUnsupported
}

func (fakeWeChatClient) Decrypt(sessionKey, encryptedData, iv string, v any) error {
	return errors.ErrUnsupported
}

// Code that takes the Client interface is tested with a small fake, without
// HTTP.
func ExampleClient() {
	fake := fakeWeChatClient{users: map[string]string{"code-alice": "o-alice"}}

	openID, err := login(context.Background(), fake, "code-alice")
	fmt.Println(openID, err)
	_, err = login(context.Background(), fake, "code-unknown")
	fmt.Println(err)
	// Output:
	// o-alice <nil>
	// login: call wx.login again
}
