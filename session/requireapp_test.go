package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/session"
)

func TestRequireApp(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	route := m.Middleware(m.RequireApp(ok, "wxaaa", "wxbbb"))
	issue := func(appID string) string {
		tok, err := m.Issue(context.Background(), &miniauth.Session{Platform: miniauth.WeChat, AppID: appID, OpenID: "o1", SessionKey: testKey})
		require.NoError(t, err)
		return tok
	}
	for _, tt := range []struct {
		appID  string
		status int
	}{{"wxaaa", 204}, {"wxbbb", 204}, {"wxccc", 403}, {"", 403}} {
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authorization", "Bearer "+issue(tt.appID))
		rr := httptest.NewRecorder()
		route.ServeHTTP(rr, r)
		assert.Equal(t, tt.status, rr.Code, tt.appID)
		if tt.status == 403 {
			assert.Contains(t, rr.Body.String(), session.CodeWrongApp)
		}
	}
	// Misconfigured: no appid, or not behind the middleware.
	for name, h := range map[string]http.Handler{
		"no appids":         m.Middleware(m.RequireApp(ok)),
		"nil next":          m.Middleware(m.RequireApp(nil, "wxaaa")),
		"behind no session": m.RequireApp(ok, "wxaaa"),
	} {
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authorization", "Bearer "+issue("wxaaa"))
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, r)
		assert.Equal(t, http.StatusInternalServerError, rr.Code, name)
	}
}
