package douyinauth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

var errStoreDown = errors.New("store down")

// downStore is a miniauth.TokenStore whose every call fails.
type downStore struct{}

func (downStore) Load(context.Context, string) (*miniauth.Token, error) { return nil, errStoreDown }
func (downStore) Delete(context.Context, string, string) error          { return errStoreDown }
func (downStore) TryLock(context.Context, string, time.Duration) (miniauth.TokenLease, bool, error) {
	return nil, false, errStoreDown
}

func TestWithTokenStoreRejectsNil(t *testing.T) {
	t.Parallel()
	_, err := douyinauth.New(testAppID, testSecret, douyinauth.WithTokenStore(nil))
	require.ErrorContains(t, err, "douyinauth: token store must not be nil")
}

// TestTokenStoreDown: a plain client_token (a fetch cuts the others' token)
// is not fetched when the shared store fails; a stable one is.
func TestTokenStoreDown(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		stable bool
		path   string
	}{
		{"client_token fails closed", false, douyinauthtest.PathClientToken},
		{"stable_client_token fetched directly", true, douyinauthtest.PathStableClientToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []douyinauth.Option{douyinauth.WithTokenStore(downStore{})}
			if tt.stable {
				opts = append(opts, douyinauth.WithStableClientToken())
			}
			srv, app := setup(t, nil, opts...)
			code, err := srv.PhoneCode(srv.AddUser(douyinauthtest.User{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}))
			require.NoError(t, err)
			p, err := app.GetPhoneNumber(context.Background(), code)
			if tt.stable {
				require.NoError(t, err)
				assert.Equal(t, "13800138000", p.PurePhoneNumber)
				assert.Equal(t, 1, srv.Calls(tt.path))
				return
			}
			require.ErrorIs(t, err, errStoreDown)
			assert.Equal(t, 0, srv.Calls(tt.path), "no client_token fetched without the store")
			assert.Equal(t, 0, srv.Calls(douyinauthtest.PathPhoneNumber), "the phone code is not spent")
		})
	}
}

// TestTokenStoreSharedByAFleet: instances sharing one store make one
// client_token fetch between them, under "douyin:" and the appid.
func TestTokenStoreSharedByAFleet(t *testing.T) {
	t.Parallel()
	store := miniauth.NewMemoryTokenStore()
	srv, first := setup(t, nil, douyinauth.WithTokenStore(store))
	fleet := []*douyinauth.App{first}
	for range 3 {
		app, err := douyinauth.New(testAppID, testSecret, douyinauth.WithBaseURL(srv.URL),
			douyinauth.WithPrivateKey(privatePEM(t)), douyinauth.WithTokenStore(store))
		require.NoError(t, err)
		fleet = append(fleet, app)
	}
	ctx := context.Background()
	var codes []string
	for range 4 * 5 {
		code, err := srv.PhoneCode(srv.AddUser(douyinauthtest.User{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}))
		require.NoError(t, err)
		codes = append(codes, code)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(codes))
	for i, code := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := fleet[i%len(fleet)].GetPhoneNumber(ctx, code)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Calls(douyinauthtest.PathClientToken), "one fetch for the fleet")
	tok, err := store.Load(ctx, "douyin:"+testAppID)
	require.NoError(t, err)
	require.NotNil(t, tok)
}
