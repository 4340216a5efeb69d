package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// banList is an application's rule: a set of banned user ids.
type banList struct {
	mu     sync.Mutex
	banned map[string]bool
	err    error // the rule cannot decide
	asked  []string
}

func (b *banList) rule(_ context.Context, userID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked = append(b.asked, userID)
	switch {
	case b.err != nil:
		return b.err
	case b.banned[userID]:
		return fmt.Errorf("user %s is banned: %w", userID, session.ErrLoginRefused)
	}
	return nil
}

func (b *banList) ban(userID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.banned == nil {
		b.banned = map[string]bool{}
	}
	b.banned[userID] = true
}

func TestWithRule(t *testing.T) {
	e := newEnv(t, account.NewMemoryStore())
	bans := &banList{}
	hook := account.OnLogin(e.linker, account.WithRule(bans.rule))
	plain := session.LoginHandler(e.app, e.m, session.WithOnLogin(hook))
	phoned := session.LoginHandler(e.app, e.m, session.WithOnLogin(e.withPhone(hook)))
	alice := e.srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678"})

	status, resp := e.login(t, plain, alice)
	require.Equal(t, http.StatusOK, status, resp)
	assert.Equal(t, false, resp["registered"])
	assert.Empty(t, bans.asked, "a login without a user asks no rule")

	status, resp = e.login(t, phoned, alice)
	require.Equal(t, http.StatusOK, status, resp)
	uid := e.subject(t, resp["token"])
	assert.Equal(t, []string{uid}, bans.asked, "the rule is asked about the user the login resolved to")

	bans.ban(uid)
	status, resp = e.login(t, plain, alice)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, session.CodeLoginRefused, resp["error"])
	assert.Nil(t, resp["token"])

	// A rule that cannot decide is an outage, guarded as the hook's store:
	// the login that found it has spent its code; the next is refused
	// before it spends its own.
	bans.err = errors.New("bans db: connection refused")
	status, resp = e.login(t, plain, alice)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, session.CodeCodeSpent, resp["error"])
	assert.NotContains(t, fmt.Sprint(resp), "connection refused")
	asked := len(bans.asked)
	status, resp = e.login(t, plain, alice)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, session.CodeStoreUnavailable, resp["error"], "refused before the code is spent")
	assert.Len(t, bans.asked, asked, "the rule is not asked while it is known down")

	assert.Panics(t, func() { account.WithRule(nil) })
	assert.Panics(t, func() { account.CheckRecord(nil) })
	assert.Panics(t, func() { account.OnLogin(e.linker, nil) })
}

func TestCheckRecord(t *testing.T) {
	t.Parallel()
	bans := &banList{}
	bans.ban("42")
	check := account.CheckRecord(bans.rule)
	require.NoError(t, check(context.Background(), &session.Record{OpenID: "o", Subject: "7"}))
	require.ErrorIs(t, check(context.Background(), &session.Record{OpenID: "o", Subject: "42"}), session.ErrLoginRefused)
	require.NoError(t, check(context.Background(), &session.Record{OpenID: "42"}), "a session without a subject has no user to refuse")
	assert.Equal(t, []string{"7", "42"}, bans.asked)
}

// TestBanDuringLogin bans a user while their login is in flight: after its
// hook asked the rule, before its token is issued. The ban (the rule, then
// RevokeAll) cannot reach a token not issued yet; the record check refuses
// that token at its first use.
func TestBanDuringLogin(t *testing.T) {
	e := newEnv(t, account.NewMemoryStore())
	bans := &banList{}
	m := session.NewManager(nil, session.WithRecordCheck(account.CheckRecord(bans.rule)))
	require.NoError(t, m.Err())
	t.Cleanup(func() { _ = m.Close() })
	e.m = m
	hook := account.OnLogin(e.linker, account.WithRule(bans.rule))
	banned := make(chan string, 1)
	inFlight := func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		fields, err := hook(ctx, info) // the rule lets the login through
		if err == nil && info.Subject != "" {
			bans.ban(info.Subject) // the ban lands now: rule first,
			if err := m.RevokeAll(ctx, info.Subject); err != nil {
				return nil, err
			} // then every session issued so far ends
			banned <- info.Subject
		}
		return fields, err
	}
	h := session.LoginHandler(e.app, m, session.WithOnLogin(e.withPhone(inFlight)))
	status, resp := e.login(t, h, e.srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678"}))
	require.Equal(t, http.StatusOK, status, resp)
	token, _ := resp["token"].(string)
	require.NotEmpty(t, token, "the login in flight got its token")
	uid := <-banned

	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("a banned user's token was let through")
	})).ServeHTTP(w, r)
	assert.Equal(t, http.StatusForbidden, w.Code, "the token's first use")
	assert.Contains(t, w.Body.String(), `"error":"login_refused"`)
	_, err := m.Validate(context.Background(), token)
	require.ErrorIs(t, err, session.ErrLoginRefused)
	assert.Contains(t, bans.asked, uid)
}

type requestIDKey struct{}

// TestLoginFromContext checks that the new-user callback sees the login:
// its profile, session and the request's context values.
func TestLoginFromContext(t *testing.T) {
	t.Parallel()
	type row struct{ appID, nick, requestID string }
	var rows []row
	linker := account.New(account.NewMemoryStore(), account.WithNewUser(
		func(ctx context.Context, id account.Identity) (string, error) {
			info, ok := account.LoginFromContext(ctx)
			if !ok {
				return "", errors.New("no login in the context")
			}
			var profile struct {
				NickName string `json:"nickName"`
			}
			if info.UserInfo != nil {
				profile.NickName = info.UserInfo.NickName
			} else if err := json.Unmarshal([]byte(info.RawData), &profile); err != nil {
				return "", err
			}
			reqID, _ := ctx.Value(requestIDKey{}).(string)
			rows = append(rows, row{info.Session.AppID, profile.NickName, reqID})
			return fmt.Sprint("user-", len(rows)), nil
		}))
	hook := account.OnLogin(linker)
	ctx := context.WithValue(context.Background(), requestIDKey{}, "req-1")
	info := &session.LoginInfo{
		Session: &wxauth.Session{AppID: appID, OpenID: "o-alice"},
		RawData: `{"nickName":"Alice"}`,
		Phone:   &wxauth.PhoneNumber{PurePhoneNumber: "13912345678", CountryCode: "86"},
	}
	fields, err := hook(ctx, info)
	require.NoError(t, err)
	assert.Equal(t, true, fields["created"])
	assert.Equal(t, []row{{appID, "Alice", "req-1"}}, rows)

	_, ok := account.LoginFromContext(context.Background())
	assert.False(t, ok)
	assert.False(t, strings.Contains(fmt.Sprint(rows), "13912345678"))
}
