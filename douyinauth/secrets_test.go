package douyinauth_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsStayOut makes every kind of failure, with a server that echoes
// the secrets it was sent in its messages, and checks that no secret, code,
// token, key or phone number reaches an error or a log line.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, app := setup(t, nil, douyinauth.WithLogger(logger))
	openid := srv.AddUser(douyinauthtest.User{PurePhoneNumber: "13912345678"})
	ctx := context.Background()
	var errs []error
	var secrets []string
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	key := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(testKey()))

	// The server echoes the secret and the code in its messages.
	code := srv.Login(openid)
	secrets = append(secrets, code)
	require.NoError(t, srv.FailNext(douyinauthtest.PathCode2Session, 40018, douyinauthtest.WithErrMsg("bad code "+code+" for secret "+testSecret)))
	_, err := app.Code2Session(ctx, code)
	collect(err)
	s, err := app.Code2Session(ctx, code)
	require.NoError(t, err)
	secrets = append(secrets, s.SessionKey)

	phone, err := srv.PhoneCode(openid)
	require.NoError(t, err)
	secrets = append(secrets, phone)
	require.NoError(t, srv.FailNext(douyinauthtest.PathClientToken, 10013, douyinauthtest.WithErrMsg("secret "+testSecret+" is wrong")))
	_, err = app.GetPhoneNumber(ctx, phone)
	collect(err)
	require.NoError(t, srv.FailNext(douyinauthtest.PathPhoneNumber, 28001007, douyinauthtest.WithErrMsg("code "+phone+" is bad")))
	_, err = app.GetPhoneNumber(ctx, phone)
	collect(err)
	p, err := app.GetPhoneNumber(ctx, phone)
	require.NoError(t, err)
	_, err = app.GetPhoneNumber(ctx, phone) // used
	collect(err)

	// A transport failure: the server is gone.
	srv.Close()
	_, err = app.Code2Session(ctx, srv.Login(openid))
	collect(err)
	require.Len(t, errs, 5)

	secrets = append(secrets, testSecret, key[:40], p.PurePhoneNumber)
	out := logs.String()
	for _, err := range errs {
		out += "\n" + err.Error() + fmt.Sprintf(" %v %+v %#v", err, err, err)
	}
	for _, sec := range secrets {
		assert.NotContains(t, out, sec)
	}
	assert.Contains(t, out, "REDACTED", "an echoed secret is replaced, not dropped with its message")
	assert.True(t, strings.Contains(logs.String(), "op=jscode2session"), "the logs say what failed")
}

// TestRedirectsNotFollowed: a redirect would carry the secret in a body to
// another host.
func TestRedirectsNotFollowed(t *testing.T) {
	t.Parallel()
	app := mockApp(t, func(*http.Request) (int, string) { return http.StatusTemporaryRedirect, "" })
	_, err := app.Code2Session(context.Background(), "code")
	assert.ErrorIs(t, err, douyinauth.ErrBadResponse)
}
