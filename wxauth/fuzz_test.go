package wxauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/wxauth"
)

// FuzzCode2SessionReply feeds arbitrary reply bodies to Code2Session: it must
// never panic, must return either a usable session or an error, and no error
// may carry the secret or the code.
func FuzzCode2SessionReply(f *testing.F) {
	for _, seed := range []string{
		`{"openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ==","unionid":"u1"}`,
		`{"errcode":40029,"errmsg":"invalid code, rid: 1"}`,
		`{"errcode":"-1","errmsg":"busy"}`,
		`{"errcode":"","openid":"o1","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`,
		`{"errcode":1e400}`,
		`{"errmsg":"` + testSecret + `","errcode":40125}`,
		`null`, `[]`, `"x"`, `{`, ``,
	} {
		f.Add(seed)
	}
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithRetry(0),
		wxauth.WithHTTPClient(&http.Client{Transport: fixedBody{}}))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body string) {
		ctx := context.WithValue(context.Background(), bodyKey{}, body)
		s, err := app.Code2Session(ctx, testCode)
		if err != nil {
			require.Nil(t, s)
			require.NotContains(t, err.Error(), testSecret)
			require.NotContains(t, err.Error(), testCode)
			require.True(t, strings.HasPrefix(err.Error(), "wxauth: code2session: "), err.Error())
			return
		}
		require.NotEmpty(t, s.OpenID)
		require.NoError(t, crypto.CheckSessionKey(s.SessionKey))
	})
}

type bodyKey struct{}

// fixedBody answers every request with the body stored in its context.
type fixedBody struct{}

func (fixedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := r.Context().Value(bodyKey{}).(string)
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"text/plain"}},
		Body:       ioNopCloser{strings.NewReader(body)},
		Request:    r,
	}, nil
}

type ioNopCloser struct{ *strings.Reader }

func (ioNopCloser) Close() error { return nil }

// FuzzPhoneNumber decodes arbitrary JSON into a PhoneNumber: no panic, and a
// successful decode of a numeric countryCode gives its digits.
func FuzzPhoneNumber(f *testing.F) {
	for _, seed := range []string{
		`{"phoneNumber":"+8613800138000","purePhoneNumber":"13800138000","countryCode":"86"}`,
		`{"countryCode":86}`, `{"countryCode":null}`, `{"countryCode":1e3}`, `{"countryCode":[]}`, `{`, `null`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var p wxauth.PhoneNumber
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			return
		}
		var raw struct {
			CC json.RawMessage `json:"countryCode"`
		}
		if json.Unmarshal([]byte(in), &raw) == nil && len(raw.CC) > 0 && raw.CC[0] != '"' && string(raw.CC) != "null" {
			require.Equal(t, strings.TrimSpace(string(raw.CC)), p.CountryCode)
		}
	})
}

// FuzzGetPhoneNumberReply feeds arbitrary getuserphonenumber replies to
// GetPhoneNumber: no panic; a success has a phone number and this app's
// watermark; no error carries the phone code or the access token.
func FuzzGetPhoneNumberReply(f *testing.F) {
	for _, seed := range []string{
		`{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"+8613800138000","purePhoneNumber":"13800138000","countryCode":86,"watermark":{"timestamp":1,"appid":"` + testAppID + `"}}}`,
		`{"errcode":"0","phone_info":{"phoneNumber":"1","countryCode":"86","watermark":{"appid":"wxother"}}}`,
		`{"errcode":40029,"errmsg":"invalid code, rid: 1"}`,
		`{"phone_info":null}`, `{"phone_info":{"countryCode":1e400}}`, `{"phone_info":[]}`, `{`, ``,
	} {
		f.Add(seed)
	}
	const phoneCode = "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"
	const accessToken = "ACCESS_TOKEN_0123456789abcdef"
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithRetry(0),
		wxauth.WithTokenSource(wxauth.StaticTokenSource(accessToken)),
		wxauth.WithHTTPClient(&http.Client{Transport: fixedBody{}}))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body string) {
		ctx := context.WithValue(context.Background(), bodyKey{}, body)
		p, err := app.GetPhoneNumber(ctx, phoneCode)
		if err != nil {
			require.Nil(t, p)
			for _, secret := range []string{phoneCode, accessToken, testSecret} {
				require.NotContains(t, err.Error(), secret)
			}
			return
		}
		require.NotEmpty(t, p.PhoneNumber)
		require.Equal(t, testAppID, p.Watermark.AppID)
	})
}

// FuzzDecryptPlaintext encrypts arbitrary plaintext under a valid key and
// decrypts it with App.Decrypt: no panic; it fails only with ErrDecrypt or
// ErrWatermark, and succeeds only for JSON whose watermark names this app.
func FuzzDecryptPlaintext(f *testing.F) {
	for _, seed := range []string{
		`{"openId":"o1","watermark":{"appid":"` + testAppID + `","timestamp":1}}`,
		`{"watermark":{"appid":"wxother"}}`, `{"watermark":null}`, `{"watermark":{"appid":1}}`,
		`[]`, `null`, `"x"`, `{`, ``, `{"openId":1,"watermark":{"appid":"` + testAppID + `"}}`,
	} {
		f.Add([]byte(seed))
	}
	app, err := wxauth.New(testAppID, testSecret)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, plain []byte) {
		data, err := crypto.Encrypt(testKey, testIV, plain)
		require.NoError(t, err)
		var u wxauth.UserInfo
		err = app.Decrypt(testKey, data, testIV, &u)
		if err != nil {
			require.True(t, errors.Is(err, crypto.ErrDecrypt) || errors.Is(err, wxauth.ErrWatermark), err.Error())
			return
		}
		require.Equal(t, testAppID, u.Watermark.AppID)
	})
}
