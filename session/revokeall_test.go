package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// TestRevokeAll: a subject's sessions end on every openid; an unbound
// openid's sessions end by the openid; a session bound to a subject does
// not end by its openid.
func TestRevokeAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, nil)
	issue := func(openID, subject string) string {
		t.Helper()
		token, err := m.Issue(ctx, &wxauth.Session{OpenID: openID, SessionKey: testKey}, session.ForSubject(subject))
		require.NoError(t, err)
		return token
	}
	valid := func(token string) bool {
		_, err := m.Validate(ctx, token)
		if err != nil {
			require.ErrorIs(t, err, session.ErrInvalidToken)
		}
		return err == nil
	}
	u1Phone, u1Other := issue("o-phone", "u1"), issue("o-other-app", "u1")
	unbound1, unbound2 := issue("o-new", ""), issue("o-new", "")
	u2 := issue("o-new", "u2") // the openid got bound to u2 since
	bystander := issue("o-by", "u3")

	require.NoError(t, m.RevokeAll(ctx, "u1"))
	assert.False(t, valid(u1Phone))
	assert.False(t, valid(u1Other))
	assert.True(t, valid(unbound1) && valid(unbound2) && valid(u2) && valid(bystander))

	require.NoError(t, m.RevokeAll(ctx, "o-new"))
	assert.False(t, valid(unbound1))
	assert.False(t, valid(unbound2))
	assert.True(t, valid(u2), "a session with a subject does not end by its openid")
	assert.True(t, valid(bystander))

	require.NoError(t, m.RevokeAll(ctx, "nobody"), "a subject without sessions is no error")
	for _, s := range []string{"", strings.Repeat("s", 257)} {
		assert.ErrorIs(t, m.RevokeAll(ctx, s), session.ErrInvalidSubject)
	}
}

func TestRevokeAllUnsupportedStore(t *testing.T) {
	t.Parallel()
	m := newManager(t, newSpyStore())
	err := m.RevokeAll(context.Background(), "u1")
	require.ErrorIs(t, err, session.ErrRevokeAllUnsupported)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Contains(t, err.Error(), "*session_test.spyStore")

	bad := session.NewManager(nil, session.WithTTL(0))
	assert.Error(t, bad.RevokeAll(context.Background(), "u1"))
}
