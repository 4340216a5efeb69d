package qqauth_test

import (
	"context"
	"sync"
	"testing"

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
