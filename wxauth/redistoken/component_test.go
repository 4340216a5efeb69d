package redistoken_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/redistoken"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// TestComponentFleetOnRedis: the servers of a third-party platform's fleet,
// each with its own Redis client, share the ticket one of them received and
// make one component token request between them.
func TestComponentFleetOnRedis(t *testing.T) {
	t.Parallel()
	const (
		compAppID = "wx0c0e1f2a3b4c5d6e"
		compSec   = "c0mp0nent-s3cret-0123456789abcdef"
		pushToken = "pushTokenQ7x2"
		authApp   = "wxa1b2c3d4e5f60718"
	)
	prefix := redistest.Prefix(t, redistest.Client(t))
	aesKey := wxauthtest.NewEncodingAESKey()
	fake := wxauthtest.NewComponentServer(compAppID, compSec, pushToken, aesKey)
	t.Cleanup(fake.Close)
	mp, _ := fake.Authorize(authApp)

	var fleet []*wxauth.Component
	for range 4 {
		store, err := redistoken.New(redistest.Client(t), redistoken.WithKeyPrefix(prefix))
		require.NoError(t, err)
		c, err := wxauth.NewComponent(compAppID, compSec, pushToken, aesKey,
			wxauth.WithBaseURL(fake.URL), wxauth.WithTokenStore(store), wxauth.WithBackoff(time.Millisecond, 2*time.Millisecond))
		require.NoError(t, err)
		fleet = append(fleet, c)
	}
	h := httptest.NewServer(fleet[0].TicketHandler())
	t.Cleanup(h.Close)
	ctx := context.Background()
	require.NoError(t, fake.PushTicket(ctx, h.URL))

	var wg sync.WaitGroup
	errs := make(chan error, 4*10)
	for _, comp := range fleet {
		for range 10 {
			code := mp.Login("")
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := comp.App(ctx, authApp)
				if err == nil {
					_, err = c.Code2Session(ctx, code)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, fake.Calls(wxauthtest.PathComponentToken))
	assert.Equal(t, 40, fake.Calls(wxauthtest.PathComponentCode2Session))
}
