package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

func TestLogoutAllHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, nil)
	issue := func(openid, subject string) string {
		t.Helper()
		tok, err := m.Issue(ctx, &wxauth.Session{OpenID: openid, SessionKey: testKey}, session.ForSubject(subject))
		require.NoError(t, err)
		return tok
	}
	post := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/api/logout/all", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return serve(t, session.LogoutAllHandler(m), r)
	}
	valid := func(token string) bool {
		_, err := m.Validate(ctx, token)
		return err == nil
	}

	phone, laptop, tablet := issue("o-alice", "u1"), issue("o-alice", "u1"), issue("o-alice-2", "u1")
	bob := issue("o-bob", "u2")
	unbound1, unbound2 := issue("o-carol", ""), issue("o-carol", "")

	rr := post(laptop)
	require.Equal(t, http.StatusNoContent, rr.Code, rr.Body.String())
	for _, tok := range []string{phone, laptop, tablet} {
		assert.False(t, valid(tok), "every session of the subject ends, on every device")
	}
	assert.True(t, valid(bob), "another user's session stays")
	assert.True(t, valid(unbound1))

	rr = post(laptop)
	assert.Equal(t, http.StatusUnauthorized, rr.Code, "a revoked token no longer proves who the user is")
	code, _ := errorJSON(t, rr)
	assert.Equal(t, session.CodeInvalidToken, code)
	assert.Equal(t, `Bearer error="invalid_token"`, rr.Header().Get("WWW-Authenticate"))

	// A session without a subject: its owner is its openid.
	require.Equal(t, http.StatusNoContent, post(unbound1).Code)
	assert.False(t, valid(unbound2))
	assert.True(t, valid(bob))

	assert.Equal(t, http.StatusUnauthorized, post("").Code)
	r := httptest.NewRequest(http.MethodGet, "/api/logout/all", nil)
	r.Header.Set("Authorization", "Bearer "+bob)
	assert.Equal(t, http.StatusMethodNotAllowed, serve(t, session.LogoutAllHandler(m), r).Code)
	assert.True(t, valid(bob), "a refused request revokes nothing")
}

func TestLogoutAllHandlerRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A store without SubjectStore cannot end every session: a server error.
	plain := newManager(t, newSpyStore())
	tok, err := plain.Issue(ctx, testSession(), session.ForSubject("u1"))
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rr := serve(t, session.LogoutAllHandler(plain), r)
	assert.Equal(t, http.StatusInternalServerError, rr.Code)
	_, err = plain.Validate(ctx, tok)
	assert.NoError(t, err, "nothing was revoked")

	// The store down: 503, the client keeps its token and retries.
	spy := newSpyStore()
	m := newManager(t, spy)
	tok, err = m.Issue(ctx, testSession())
	require.NoError(t, err)
	spy.fail(errDown)
	r = httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rr = serve(t, session.LogoutAllHandler(m), r)
	assert.Equal(t, http.StatusServiceUnavailable, rr.Code)
	code, _ := errorJSON(t, rr)
	assert.Equal(t, session.CodeStoreUnavailable, code)

	for _, h := range []http.Handler{session.LogoutAllHandler(nil), session.LogoutAllHandler(session.NewManager(nil, session.WithTTL(-1)))} {
		rr := serve(t, h, httptest.NewRequest(http.MethodPost, "/", nil))
		assert.Equal(t, http.StatusInternalServerError, rr.Code)
	}
}
