package qqauth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/qqauth"
	"github.com/wxmp/miniauth/qqauth/qqauthtest"
	"github.com/wxmp/miniauth/wxauth/redistoken"
)

// A fleet of instances on one Redis fetches QQ's classic token once: each
// getToken would retire the token the others hold.
func TestAccessTokenFleetOnRedis(t *testing.T) {
	rdb := redistest.Client(t)
	store, err := redistoken.New(rdb, redistoken.WithKeyPrefix(redistest.Prefix(t, rdb)))
	require.NoError(t, err)
	srv := qqauthtest.NewServer(testAppID, testSecret)
	defer srv.Close()
	const instances = 6
	apps := make([]*qqauth.App, instances)
	for i := range apps {
		apps[i], err = qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(srv.URL), qqauth.WithTokenStore(store))
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	toks := make([]string, 4*instances)
	for i := range toks {
		wg.Go(func() {
			tok, err := apps[i%instances].AccessToken(context.Background())
			assert.NoError(t, err)
			toks[i] = tok
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.TokensIssued())
	for _, tok := range toks {
		assert.True(t, srv.TokenValid(tok))
	}
	// One instance hears QQ refuse the token: the store drops it, and the
	// fleet moves to one new token.
	apps[0].InvalidateAccessToken(context.Background(), toks[0])
	fresh, err := apps[0].AccessToken(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, toks[0], fresh)
	assert.Equal(t, 2, srv.TokensIssued())
}

// TestFleetOnRedis: the instances of a fleet, each with its own Redis
// client, share QQ's classic token through wxauth/redistoken: one getToken
// for all of them (a second would retire the first), under a key of its
// own ("qq:" and the appid) beside a WeChat app of the same appid.
func TestFleetOnRedis(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, redistest.Client(t))
	srv := qqauthtest.NewServer(testAppID, testSecret)
	t.Cleanup(srv.Close)

	var fleet []*qqauth.App
	for range 4 {
		store, err := redistoken.New(redistest.Client(t), redistoken.WithKeyPrefix(prefix))
		require.NoError(t, err)
		app, err := qqauth.New(testAppID, testSecret, qqauth.WithBaseURL(srv.URL),
			qqauth.WithTokenStore(store), qqauth.WithBackoff(time.Millisecond, 2*time.Millisecond))
		require.NoError(t, err)
		fleet = append(fleet, app)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	toks := make(chan string, 4*20)
	errs := make(chan error, 4*20)
	for _, app := range fleet {
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := app.AccessToken(ctx)
				if err != nil {
					errs <- err
					return
				}
				toks <- tok
			}()
		}
	}
	wg.Wait()
	close(toks)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for tok := range toks {
		assert.True(t, srv.TokenValid(tok), "every instance holds the one valid token")
	}
	assert.Equal(t, 1, srv.TokensIssued(), "one getToken for the fleet")

	store, err := redistoken.New(redistest.Client(t), redistoken.WithKeyPrefix(prefix))
	require.NoError(t, err)
	saved, err := store.Load(ctx, "qq:"+testAppID)
	require.NoError(t, err)
	require.NotNil(t, saved)
	assert.Equal(t, srv.AccessToken(), saved.AccessToken)
	bare, err := store.Load(ctx, testAppID)
	require.NoError(t, err)
	assert.Nil(t, bare, "the bare appid stays WeChat's key")
}
