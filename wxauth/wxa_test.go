package wxauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/engine"
	"github.com/wxmp/miniauth/internal/wxmock"
)

// replyWith registers a responder for method+path that records the request
// and its body and answers body.
func replyWith(t *testing.T, up *wxmock.Upstream, method, path, body string) (calls *atomic.Int32, last func() (*http.Request, string)) {
	t.Helper()
	calls = &atomic.Int32{}
	var req atomic.Pointer[http.Request]
	var reqBody atomic.Value
	up.Transport().RegisterResponder(method, wxmock.Base+path, func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		b := []byte{}
		if r.Body != nil {
			b, _ = io.ReadAll(r.Body)
		}
		req.Store(r)
		reqBody.Store(string(b))
		return wxmock.JSON(body), nil
	})
	return calls, func() (*http.Request, string) { s, _ := reqBody.Load().(string); return req.Load(), s }
}

func TestGetPhoneNumber(t *testing.T) {
	t.Parallel()
	const okPhone = `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"+86 13800138000","purePhoneNumber":"13800138000","countryCode":%s,"watermark":{"timestamp":1700000000,"appid":"%s"}}}`
	tests := []struct {
		name    string
		code    string
		reply   string
		want    *PhoneNumber
		is      error
		noCalls bool
	}{
		{name: "country code string", code: "phonecode1", reply: fmt.Sprintf(okPhone, `"86"`, testAppID),
			want: &PhoneNumber{PhoneNumber: "+86 13800138000", PurePhoneNumber: "13800138000", CountryCode: "86",
				Watermark: crypto.Watermark{AppID: testAppID, Timestamp: 1700000000}}},
		{name: "country code number", code: "phonecode2", reply: fmt.Sprintf(okPhone, `86`, testAppID),
			want: &PhoneNumber{PhoneNumber: "+86 13800138000", PurePhoneNumber: "13800138000", CountryCode: "86",
				Watermark: crypto.Watermark{AppID: testAppID, Timestamp: 1700000000}}},
		{name: "other app's watermark", code: "phonecode3", reply: fmt.Sprintf(okPhone, `"86"`, "wxOTHERAPP00000000"), is: ErrWatermark},
		{name: "no watermark", code: "phonecode4", reply: `{"errcode":0,"phone_info":{"phoneNumber":"1","purePhoneNumber":"1","countryCode":"86"}}`, is: ErrWatermark},
		{name: "no phone_info", code: "phonecode5", reply: `{"errcode":0,"errmsg":"ok"}`, is: ErrBadResponse},
		{name: "bad country code", code: "phonecode6", reply: `{"errcode":0,"phone_info":{"phoneNumber":"1","countryCode":[1]}}`, is: ErrBadResponse},
		{name: "invalid code", code: "phonecode7", reply: `{"errcode":40029,"errmsg":"invalid code"}`, is: ErrInvalidPhoneCode},
		{name: "rate limited", code: "phonecode8", reply: `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, is: ErrRateLimited},
		{name: "busy", code: "phonecode9", reply: `{"errcode":-1,"errmsg":"system error"}`, is: ErrSystemBusy},
		{name: "empty code", code: "", is: ErrInvalidPhoneCode, noCalls: true},
		{name: "long code", code: strings.Repeat("a", MaxCodeLen+1), is: ErrInvalidPhoneCode, noCalls: true},
		{name: "code with space", code: "abc def", is: ErrInvalidPhoneCode, noCalls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, up, _, _ := testApp(t, WithRetry(0))
			calls, last := replyWith(t, up, http.MethodPost, "/wxa/business/getuserphonenumber", tt.reply)
			got, err := a.GetPhoneNumber(context.Background(), tt.code)
			if tt.noCalls {
				assert.Equal(t, int32(0), calls.Load())
				assert.Equal(t, 0, up.Fetches(), "no token fetched for bad input")
			}
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
				assert.Nil(t, got)
				assert.True(t, strings.HasPrefix(err.Error(), "wxauth: getuserphonenumber: "), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			req, body := last()
			assert.Equal(t, wxmock.Token(1), req.URL.Query().Get("access_token"))
			var sent map[string]string
			require.NoError(t, json.Unmarshal([]byte(body), &sent))
			assert.Equal(t, map[string]string{"code": tt.code}, sent)
		})
	}
}

func TestCheckSessionKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		openID  string
		key     string
		reply   string
		is      error
		noCalls bool
	}{
		{name: "valid", openID: "oUser1", key: testKey, reply: `{"errcode":0,"errmsg":"ok"}`},
		{name: "expired", openID: "oUser1", key: testKey, reply: `{"errcode":87009,"errmsg":"invalid signature"}`, is: ErrSessionKeyExpired},
		{name: "errcode as string", openID: "oUser1", key: testKey, reply: `{"errcode":"87009","errmsg":"invalid signature"}`, is: ErrSessionKeyExpired},
		{name: "bad key", openID: "oUser1", key: "not-a-key", is: crypto.ErrInvalidSessionKey, noCalls: true},
		{name: "empty openid", openID: "", key: testKey, is: ErrInvalidOpenID, noCalls: true},
		{name: "long openid", openID: strings.Repeat("o", MaxOpenIDLen+1), key: testKey, is: ErrInvalidOpenID, noCalls: true},
		{name: "openid with newline", openID: "o\nx", key: testKey, is: ErrInvalidOpenID, noCalls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, up, _, _ := testApp(t)
			calls, last := replyWith(t, up, http.MethodGet, "/wxa/checksession", tt.reply)
			err := a.CheckSessionKey(context.Background(), tt.openID, tt.key)
			if tt.noCalls {
				assert.Equal(t, int32(0), calls.Load())
			}
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
				assert.NotContains(t, err.Error(), tt.key)
				return
			}
			require.NoError(t, err)
			req, _ := last()
			q := req.URL.Query()
			assert.Equal(t, wxmock.Token(1), q.Get("access_token"))
			assert.Equal(t, tt.openID, q.Get("openid"))
			assert.Equal(t, crypto.SessionKeySignature(tt.key), q.Get("signature"))
			assert.Equal(t, "hmac_sha256", q.Get("sig_method"))
			assert.NotContains(t, req.URL.RawQuery, strings.TrimRight(tt.key, "="), "the key itself is never sent")
		})
	}
}

func TestResetSessionKey(t *testing.T) {
	t.Parallel()
	const newKey = "HyVFkGl5F5OQWJZZaNzBBg=="
	tests := []struct {
		name  string
		reply string
		want  *Session
		is    error
	}{
		{name: "ok", reply: `{"errcode":0,"errmsg":"ok","openid":"oUser1","session_key":"` + newKey + `"}`,
			want: &Session{Platform: miniauth.WeChat, AppID: testAppID, OpenID: "oUser1", SessionKey: newKey}},
		{name: "no openid in reply", reply: `{"errcode":0,"session_key":"` + newKey + `"}`,
			want: &Session{Platform: miniauth.WeChat, AppID: testAppID, OpenID: "oUser1", SessionKey: newKey}},
		{name: "other openid", reply: `{"errcode":0,"openid":"oUser2","session_key":"` + newKey + `"}`, is: ErrBadResponse},
		{name: "bad key", reply: `{"errcode":0,"openid":"oUser1","session_key":"short"}`, is: ErrBadResponse},
		{name: "expired", reply: `{"errcode":87009,"errmsg":"invalid signature"}`, is: ErrSessionKeyExpired},
		{name: "too frequent", reply: `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, is: ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, up, _, _ := testApp(t)
			_, last := replyWith(t, up, http.MethodGet, "/wxa/resetusersessionkey", tt.reply)
			got, err := a.ResetSessionKey(context.Background(), "oUser1", testKey)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
				assert.Nil(t, got)
				assert.NotContains(t, err.Error(), newKey)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			req, _ := last()
			q := req.URL.Query()
			assert.Equal(t, crypto.SessionKeySignature(testKey), q.Get("signature"))
			assert.Equal(t, "hmac_sha256", q.Get("sig_method"))
			assert.Equal(t, wxmock.Token(1), q.Get("access_token"))
		})
	}
	a, _, _, _ := testApp(t)
	_, err := a.ResetSessionKey(context.Background(), "", testKey)
	require.ErrorIs(t, err, ErrInvalidOpenID)
}

// FuzzTokenReply feeds token replies through the checks of the token
// source: a token that passes them is usable.
func FuzzTokenReply(f *testing.F) {
	f.Add([]byte(`{"access_token":"ACCESS_TOKEN","expires_in":7200}`))
	f.Add([]byte(`{"access_token":"","expires_in":7200}`))
	f.Add([]byte(`{"access_token":"A B","expires_in":-1}`))
	f.Add([]byte(`{"errcode":40001,"errmsg":"x"}`))
	f.Add([]byte(`{"access_token":"ACCESS_TOKEN","expires_in":0}`)) // its last second
	f.Add([]byte(`{"access_token":"ACCESS_TOKEN","expires_in":1}`))
	f.Add([]byte(`{"access_token":"ACCESS_TOKEN","expires_in":null}`))
	f.Add([]byte(`{"access_token":"ACCESS_TOKEN"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r tokenReply
		if json.Unmarshal(b, &r) != nil {
			return
		}
		now := newFakeClock().Now()
		tok, err := tokenFromReply("stable_token", &r, now)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			return
		}
		require.True(t, validToken(tok.AccessToken))
		require.True(t, tok.ExpiresAt.After(now))
		refreshAt := engine.RefreshAt(tok, now, engine.DefaultMargin)
		require.True(t, now.Before(refreshAt))
		require.False(t, refreshAt.After(tok.ExpiresAt))
	})
}
