package miniauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
)

// stub is a Client for the tests of Apps.
type stub struct {
	p  miniauth.Platform
	id string
}

func (s stub) Platform() miniauth.Platform { return s.p }
func (s stub) AppID() string               { return s.id }
func (s stub) Code2Session(context.Context, string) (*miniauth.Session, error) {
	return &miniauth.Session{Platform: s.p, AppID: s.id, OpenID: "o"}, nil
}

func TestNewAppsRefuses(t *testing.T) {
	t.Parallel()
	for name, clients := range map[string][]miniauth.Client{
		"nil client":     {stub{miniauth.WeChat, "wx1"}, nil},
		"empty appid":    {stub{miniauth.WeChat, ""}},
		"empty platform": {stub{"", "wx1"}},
		"repeated":       {stub{miniauth.WeChat, "wx1"}, stub{miniauth.QQ, "q1"}, stub{miniauth.WeChat, "wx1"}},
	} {
		_, err := miniauth.NewApps(clients...)
		assert.Error(t, err, name)
	}
}

func TestAppSetPicks(t *testing.T) {
	t.Parallel()
	wx1, wx2 := stub{miniauth.WeChat, "wx1"}, stub{miniauth.WeChat, "wx2"}
	wecom := stub{miniauth.WeCom, "wx1"} // the same appid opened in WeCom
	dy := stub{miniauth.Douyin, "tt1"}
	set, err := miniauth.NewApps(wx1, wx2, wecom, dy)
	require.NoError(t, err)
	assert.Equal(t, 4, set.Len())
	assert.Equal(t, []miniauth.Client{dy, wx1, wecom, wx2}, set.Clients(), "ordered by appid, then platform")
	ctx := context.Background()
	tests := []struct {
		p    miniauth.Platform
		id   string
		want miniauth.Client
	}{
		{"", "wx2", wx2},
		{miniauth.WeChat, "wx2", wx2},
		{"", "tt1", dy},
		{miniauth.WeChat, "wx1", wx1},
		{miniauth.WeCom, "wx1", wecom},
		{"", "wx1", nil},           // two platforms, none named: ambiguous
		{"", "", nil},              // several apps, none named
		{"", "nope", nil},          // unknown
		{miniauth.QQ, "wx2", nil},  // known appid, other platform
		{miniauth.Douyin, "", nil}, // none named
		{miniauth.Platform("x"), "tt1", nil},
	}
	for _, tt := range tests {
		got, err := set.AppOn(ctx, tt.p, tt.id)
		if tt.want == nil {
			assert.ErrorIs(t, err, miniauth.ErrUnknownApp, "%q/%q", tt.p, tt.id)
			assert.Nil(t, got)
			continue
		}
		require.NoError(t, err, "%q/%q", tt.p, tt.id)
		assert.Equal(t, tt.want, got)
		viaResolve, err := miniauth.ResolveApp(ctx, set, tt.p, tt.id)
		require.NoError(t, err)
		assert.Equal(t, tt.want, viaResolve)
	}
	// App is AppOn without a platform.
	got, err := set.App(ctx, "tt1")
	require.NoError(t, err)
	assert.Equal(t, dy, got)
}

func TestAppSetOfOneServesEmptyAppID(t *testing.T) {
	t.Parallel()
	c := stub{miniauth.Baidu, "key1"}
	set, err := miniauth.NewApps(c)
	require.NoError(t, err)
	for _, p := range []miniauth.Platform{"", miniauth.Baidu} {
		got, err := set.AppOn(context.Background(), p, "")
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	_, err = set.AppOn(context.Background(), miniauth.WeChat, "")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
}

func TestAppsFuncAndResolve(t *testing.T) {
	t.Parallel()
	tenants := map[string]miniauth.Client{"wx1": stub{miniauth.WeChat, "wx1"}, "tt1": stub{miniauth.Douyin, "tt1"}}
	down := errors.New("tenant db down")
	apps := miniauth.AppsFunc(func(_ context.Context, id string) (miniauth.Client, error) {
		switch id {
		case "boom":
			return nil, down
		case "nil":
			return nil, nil
		}
		c, ok := tenants[id]
		if !ok {
			return nil, fmt.Errorf("tenant %q: %w", id, miniauth.ErrUnknownApp)
		}
		return c, nil
	})
	ctx := context.Background()
	c, err := miniauth.ResolveApp(ctx, apps, miniauth.Douyin, "tt1")
	require.NoError(t, err)
	assert.Equal(t, "tt1", c.AppID())
	_, err = miniauth.ResolveApp(ctx, apps, miniauth.WeChat, "tt1")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
	_, err = miniauth.ResolveApp(ctx, apps, "", "nope")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
	_, err = apps.App(ctx, "nil")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp, "a nil client is no client")
	_, err = miniauth.ResolveApp(ctx, apps, "", "boom")
	assert.ErrorIs(t, err, down)
	assert.NotErrorIs(t, err, miniauth.ErrUnknownApp, "a tenant database down is not the user's fault")
	_, err = miniauth.ResolveApp(ctx, nil, "", "wx1")
	assert.Error(t, err)
}

func TestSingleApp(t *testing.T) {
	t.Parallel()
	c := stub{miniauth.QQ, "q1"}
	for _, id := range []string{"", "q1"} {
		got, err := miniauth.SingleApp(context.Background(), c, id)
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	_, err := miniauth.SingleApp(context.Background(), c, "q2\n"+strings.Repeat("x", 1000))
	require.ErrorIs(t, err, miniauth.ErrUnknownApp)
	assert.NotContains(t, err.Error(), "\n", "an id from a request is clipped and made printable")
	assert.Less(t, len(err.Error()), 200)
}

func TestSessionNeverShowsKey(t *testing.T) {
	t.Parallel()
	const key = "tiihtNczf5v6AKRyjwEUhQ=="
	s := &miniauth.Session{Platform: miniauth.Douyin, AppID: "tt1", OpenID: "o1", UnionID: "u1", SessionKey: key}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("login", "session", s)
	j, err := json.Marshal(s)
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%#v %+v %s %q", s, *s, s, s), logs.String(), string(j)} {
		assert.NotContains(t, out, key)
		assert.Contains(t, out, "o1")
	}
	assert.Contains(t, s.String(), `Platform: "douyin"`)
	assert.JSONEq(t, `{"platform":"douyin","appid":"tt1","openid":"o1","unionid":"u1"}`, string(j))
}

func TestPlatforms(t *testing.T) {
	t.Parallel()
	for _, p := range miniauth.Platforms() {
		assert.True(t, p.Known(), p)
		assert.Equal(t, p, p.OrWeChat())
	}
	assert.Len(t, miniauth.Platforms(), 7)
	assert.False(t, miniauth.Platform("").Known())
	assert.Equal(t, miniauth.WeChat, miniauth.Platform("").OrWeChat())
}

func TestPhoneOptionsAndCountryCode(t *testing.T) {
	t.Parallel()
	o := miniauth.NewPhoneOptions(nil, miniauth.ForOpenID("o1"))
	assert.Equal(t, "o1", o.OpenID)
	for in, want := range map[string]string{`"86"`: "86", `86`: "86", `null`: "", `""`: ""} {
		var p miniauth.PhoneNumber
		require.NoError(t, json.Unmarshal([]byte(`{"phoneNumber":"1","countryCode":`+in+`}`), &p))
		assert.Equal(t, want, p.CountryCode, in)
	}
	var p miniauth.PhoneNumber
	assert.Error(t, json.Unmarshal([]byte(`{"countryCode":{}}`), &p))
}

// liar is a client whose App method answers with another client, as a type
// that embeds a platform's *App and overrides its methods does.
type liar struct{ stub }

func (l liar) App(context.Context, string) (miniauth.Client, error) {
	return stub{l.p, "someone-else"}, nil
}

func TestResolveAppOfAClientIsTheClient(t *testing.T) {
	t.Parallel()
	c := liar{stub{miniauth.WeChat, "wx1"}}
	for _, id := range []string{"", "wx1"} {
		got, err := miniauth.ResolveApp(context.Background(), c, "", id)
		require.NoError(t, err)
		assert.Equal(t, c, got, "the client itself, not what its App method says")
	}
	_, err := miniauth.ResolveApp(context.Background(), c, miniauth.QQ, "wx1")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
	_, err = miniauth.ResolveApp(context.Background(), c, "", "wx2")
	assert.ErrorIs(t, err, miniauth.ErrUnknownApp)
}
