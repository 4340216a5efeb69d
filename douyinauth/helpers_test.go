package douyinauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

const (
	testAppID  = "tt0123456789abcdef"
	testSecret = "188506c0a1b2c3d4e5f65a31de40625ec7"
)

// testKey is one RSA key for the whole test binary: making one per test
// would cost seconds under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func privatePEM(t testing.TB) string {
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func publicPEM(t testing.TB) string {
	der, err := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// setup starts a fake that encrypts with the test key and an App on it
// with the private key; extra options come last.
func setup(t testing.TB, srvOpts []douyinauthtest.Option, opts ...douyinauth.Option) (*douyinauthtest.Server, *douyinauth.App) {
	t.Helper()
	srv := douyinauthtest.NewServer(testAppID, testSecret,
		append([]douyinauthtest.Option{douyinauthtest.WithAppPublicKey(publicPEM(t))}, srvOpts...)...)
	t.Cleanup(srv.Close)
	app, err := douyinauth.New(testAppID, testSecret, append([]douyinauth.Option{
		douyinauth.WithBaseURL(srv.URL),
		douyinauth.WithPrivateKey(privatePEM(t)),
		douyinauth.WithBackoff(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	return srv, app
}
