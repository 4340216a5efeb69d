package session_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

func TestLoginHandlerPhoneCode(t *testing.T) {
	t.Parallel()
	sess := testSession()
	client := newFakeClient(t, sess, nil)
	client.phone = &wxauth.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
	var got *session.LoginInfo
	m := newManager(t, nil)
	h := session.LoginHandler(client, m, session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
		got = info
		info.Subject = "user-42"
		return map[string]any{"registered": true}, nil
	}))
	rr := serve(t, h, postLogin(`{"code":"c","phoneCode":"pc"}`))
	require.Equal(t, http.StatusOK, rr.Code, rr.Body.String())
	assert.EqualValues(t, 1, client.phoneCalls.Load())
	assert.EqualValues(t, 1, client.phoneOpts.Load(), "the code is exchanged for the session's openid (ForOpenID)")
	require.NotNil(t, got)
	require.NotNil(t, got.Phone)
	assert.Equal(t, "13800138000", got.Phone.PhoneNumber)

	var resp map[string]any
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &resp))
	assert.Equal(t, true, resp["registered"])
	assert.NotContains(t, rr.Body.String(), "13800138000", "the phone number is not in the answer unless the hook adds it")
	rec, err := m.Validate(context.Background(), resp["token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "user-42", rec.Subject)

	// A hook that refuses after the phone was spent: no token.
	refusing := session.LoginHandler(client, m, session.WithOnLogin(func(context.Context, *session.LoginInfo) (map[string]any, error) {
		return nil, session.ErrLoginRefused
	}))
	rr = serve(t, refusing, postLogin(`{"code":"c","phoneCode":"pc"}`))
	assert.Equal(t, http.StatusForbidden, rr.Code)
	assert.EqualValues(t, 2, client.phoneCalls.Load())
}

func TestHookCannotSetReservedFields(t *testing.T) {
	t.Parallel()
	forged := map[string]any{
		"token": "forged", "Token": "forged", "TOKEN": "forged",
		"to\u212aen": "forged", // KELVIN SIGN: encoding/json reads it as "token"
		"expiresin":  1,
		"OpenID":     "forged",
		"unionId":    "forged",
		"userinfo":   "forged",
		"u\u017fer":  "kept", // folds to "user", reserved by no one
		"registered": false,
		"subject":    "kept",
	}
	m := newManager(t, nil)
	h := session.LoginHandler(newFakeClient(t, testSession(), nil), m, session.WithOnLogin(
		func(context.Context, *session.LoginInfo) (map[string]any, error) { return forged, nil }))
	rr := serve(t, h, postLogin(`{"code":"c"}`))
	require.Equal(t, http.StatusOK, rr.Code, rr.Body.String())
	var resp map[string]any
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &resp))
	assert.NotContains(t, rr.Body.String(), "forged")
	assert.Equal(t, false, resp["registered"])
	assert.Equal(t, "kept", resp["subject"])
	assert.Equal(t, "kept", resp["u\u017fer"])

	// A Go client decoding the answer gets the handler's values.
	var typed struct {
		Token     string `json:"token"`
		ExpiresIn int64  `json:"expiresIn"`
		OpenID    string `json:"openid"`
	}
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &typed))
	assert.Len(t, typed.Token, session.TokenLen)
	assert.EqualValues(t, 86400, typed.ExpiresIn)
	assert.Equal(t, testSession().OpenID, typed.OpenID)
}

// ctxStore is a spyStore that fails, as network stores do, when the
// request's context is done.
type ctxStore struct{ *spyStore }

func (s ctxStore) Get(ctx context.Context, key string) (*session.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.spyStore.Get(ctx, key)
}

func TestAuthenticateAnswersAsMiddleware(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := session.NewFakeClock()
	store := newSpyStore()
	m := newManager(t, ctxStore{store}, session.WithClock(clk.Now), session.WithTTL(time.Hour))
	good, err := m.Issue(ctx, testSession(), session.ForSubject("user-1"))
	require.NoError(t, err)
	clk.Advance(-2 * time.Hour)
	expired, err := m.Issue(ctx, testSession())
	require.NoError(t, err)
	clk.Advance(2 * time.Hour)
	broken := session.NewManager(nil, session.WithTTL(-1))
	canceled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name       string
		m          *session.Manager
		header     string
		ctx        context.Context
		storeDown  bool
		wantStatus int
		wantCode   string
	}{
		{"valid", m, "Bearer " + good, ctx, false, http.StatusOK, ""},
		{"no token", m, "", ctx, false, 401, session.CodeInvalidToken},
		{"bad token", m, "Bearer abc", ctx, false, 401, session.CodeInvalidToken},
		{"unknown token", m, "Bearer " + otherToken(good), ctx, false, 401, session.CodeInvalidToken},
		{"expired", m, "Bearer " + expired, ctx, false, 401, session.CodeExpiredToken},
		{"store down", m, "Bearer " + good, ctx, true, 503, session.CodeStoreUnavailable},
		{"canceled", m, "Bearer " + good, canceled, false, session.StatusClientClosedRequest, session.CodeCanceled},
		{"misconfigured manager", broken, "Bearer " + good, ctx, false, 500, session.CodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.storeDown {
				store.fail(errDown)
				defer store.fail(nil)
			}
			r := httptest.NewRequestWithContext(tt.ctx, http.MethodGet, "/me", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			rec, e := tt.m.Authenticate(r)
			rr := httptest.NewRecorder()
			tt.m.Middleware(echoOpenID).ServeHTTP(rr, r)
			require.Equal(t, tt.wantStatus, rr.Code, rr.Body.String())
			if tt.wantCode == "" {
				require.Nil(t, e)
				require.NotNil(t, rec)
				assert.Equal(t, "user-1", rec.Subject)
				assert.Equal(t, rec.OpenID, rr.Body.String())
				return
			}
			assert.Nil(t, rec)
			require.NotNil(t, e)
			assert.Equal(t, tt.wantStatus, e.Status)
			assert.Equal(t, tt.wantCode, e.Code)
			if tt.wantStatus != session.StatusClientClosedRequest {
				code, msg := errorJSON(t, rr)
				assert.Equal(t, e.Code, code, "Authenticate and the middleware agree")
				assert.Equal(t, e.Message, msg)
			}
		})
	}
}

func TestAuthenticateChecksOriginInCookieMode(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil, session.WithTokenCookie("sid"))
	token, err := m.Issue(context.Background(), testSession())
	require.NoError(t, err)
	for _, tc := range []struct {
		method, site string
		want         int
	}{
		{http.MethodPost, "cross-site", http.StatusForbidden},
		{http.MethodDelete, "same-site", http.StatusForbidden},
		{http.MethodPost, "same-origin", http.StatusOK},
		{http.MethodPost, "", http.StatusOK}, // not a browser
		{http.MethodGet, "cross-site", http.StatusOK},
	} {
		r := httptest.NewRequest(tc.method, "/api/x", nil)
		r.AddCookie(&http.Cookie{Name: "sid", Value: token})
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		rec, e := m.Authenticate(r)
		rr := httptest.NewRecorder()
		m.Middleware(echoOpenID).ServeHTTP(rr, r)
		assert.Equal(t, tc.want, rr.Code, "%s %s", tc.method, tc.site)
		if tc.want == http.StatusOK {
			assert.Nil(t, e)
			assert.NotNil(t, rec)
			continue
		}
		require.NotNil(t, e)
		assert.Equal(t, session.CodeCrossOrigin, e.Code)
		code, _ := errorJSON(t, rr)
		assert.Equal(t, session.CodeCrossOrigin, code)
	}
}

func TestRevokeRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, tc := range map[string]struct {
		opt session.Option
		set func(r *http.Request, token string)
	}{
		"bearer": {nil, func(r *http.Request, tok string) { r.Header.Set("Authorization", "Bearer "+tok) }},
		"header": {session.WithTokenHeader("X-Token"), func(r *http.Request, tok string) { r.Header.Set("X-Token", tok) }},
		"cookie": {session.WithTokenCookie("sid"), func(r *http.Request, tok string) { r.AddCookie(&http.Cookie{Name: "sid", Value: tok}) }},
	} {
		t.Run(name, func(t *testing.T) {
			m := newManager(t, nil, tc.opt)
			token, err := m.Issue(ctx, testSession())
			require.NoError(t, err)
			other, err := m.Issue(ctx, testSession())
			require.NoError(t, err)

			r := httptest.NewRequest(http.MethodPost, "/logout", nil)
			tc.set(r, token)
			require.NoError(t, m.RevokeRequest(r))
			_, err = m.Validate(ctx, token)
			require.ErrorIs(t, err, session.ErrInvalidToken)
			_, err = m.Validate(ctx, other)
			require.NoError(t, err, "only the request's token is revoked")
			require.NoError(t, m.RevokeRequest(r), "revoking again is no error")

			require.ErrorIs(t, m.RevokeRequest(httptest.NewRequest(http.MethodPost, "/logout", nil)), session.ErrInvalidToken)
			bad := httptest.NewRequest(http.MethodPost, "/logout", nil)
			tc.set(bad, "not-a-token")
			require.ErrorIs(t, m.RevokeRequest(bad), session.ErrInvalidToken)
		})
	}
	broken := session.NewManager(nil, session.WithTTL(-1))
	require.ErrorContains(t, broken.RevokeRequest(httptest.NewRequest(http.MethodPost, "/", nil)), "ttl")
}

func TestForSubject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, nil)
	sess := testSession()
	sess.AppID = testAppID
	token, err := m.Issue(ctx, sess, session.ForSubject("user-7"))
	require.NoError(t, err)
	rec, err := m.Validate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, "user-7", rec.Subject)
	assert.Equal(t, testAppID, rec.AppID)

	token, err = m.Issue(ctx, sess)
	require.NoError(t, err)
	rec, err = m.Validate(ctx, token)
	require.NoError(t, err)
	assert.Empty(t, rec.Subject, "no subject: an openid not bound to a user")

	_, err = m.Issue(ctx, sess, session.ForSubject(strings.Repeat("u", 257)))
	require.ErrorContains(t, err, "subject")
	_, err = m.Issue(ctx, sess, session.ForSubject(strings.Repeat("u", 256)))
	require.NoError(t, err)
}

func TestWeChatError(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		ctx    context.Context
		err    error
		status int
		code   string
	}{
		{context.Background(), apiErr(40029), 401, session.CodeInvalidCode},
		{context.Background(), apiErr(40163), 401, session.CodeCodeUsed},
		{context.Background(), phoneErr(40029), 400, session.CodeInvalidPhoneCode},
		{context.Background(), phoneErr(40163), 400, session.CodeInvalidPhoneCode},
		{context.Background(), phoneErr(40013), 400, session.CodeInvalidPhoneCode},
		{context.Background(), phoneErr(40003), 400, session.CodeInvalidPhoneCode},
		{context.Background(), phoneErr(45011), 429, session.CodeRateLimited},
		{context.Background(), apiErr(40226), 403, session.CodeHighRisk},
		{context.Background(), apiErr(45009), 503, session.CodeQuotaExceeded},
		{context.Background(), apiErr(40164), 500, session.CodeServerError},
		{context.Background(), apiErr(48001), 500, session.CodeServerError},
		{context.Background(), apiErr(40125), 500, session.CodeServerError},
		{context.Background(), apiErr(-1), 502, session.CodeWeChatUnavailable},
		{canceled, apiErr(-1), session.StatusClientClosedRequest, session.CodeCanceled},
	} {
		e := session.WeChatError(tt.ctx, tt.err)
		assert.Equal(t, tt.status, e.Status, tt.err.Error())
		assert.Equal(t, tt.code, e.Code, tt.err.Error())
		assert.NotContains(t, e.Message, wechatText)
		assert.ErrorIs(t, e, tt.err, "the cause is kept for logs")
	}
}

// deleteFails is a spyStore whose Delete fails as a store that went down.
type deleteFails struct{ *spyStore }

func (deleteFails) Delete(context.Context, string) error { return errDown }

func TestPhoneHandlerOldTokenNotRevoked(t *testing.T) {
	t.Parallel()
	store := newSpyStore()
	m := newManager(t, deleteFails{store})
	client := newFakeClient(t, testSession(), nil)
	client.phone = &wxauth.PhoneNumber{PhoneNumber: "13800138000"}
	old, err := m.Issue(context.Background(), testSession())
	require.NoError(t, err)
	h := session.PhoneHandler(client, m, session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
		info.Subject = "user-1"
		return nil, nil
	}))
	r := httptest.NewRequest(http.MethodPost, "/phone", strings.NewReader(`{"phoneCode":"pc"}`))
	r.Header.Set("Authorization", "Bearer "+old)
	rr := serve(t, h, r)
	require.Equal(t, http.StatusServiceUnavailable, rr.Code, rr.Body.String())
	code, _ := errorJSON(t, rr)
	assert.Equal(t, session.CodeStoreUnavailable, code, "no new token while the old one lives on")
	rec, err := m.Validate(context.Background(), old)
	require.NoError(t, err)
	assert.Empty(t, rec.Subject)
}
