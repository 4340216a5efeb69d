package alipayauth_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
)

func TestDecryptPhone(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	id := srv.AddUser(alipayauthtest.User{Mobile: "13912345678"})
	resp, err := srv.PhoneResponse(id)
	require.NoError(t, err)
	var m miniauth.PhoneDecrypter = app
	p, err := m.DecryptPhone(resp)
	require.NoError(t, err)
	assert.Equal(t, miniauth.PhoneNumber{PhoneNumber: "13912345678", PurePhoneNumber: "13912345678"}, *p)
	p2, err := app.DecryptPhone(resp)
	require.NoError(t, err, "no request is made: the response decrypts again")
	assert.Equal(t, p, p2)
}

func TestDecryptPhoneRefusals(t *testing.T) {
	t.Parallel()
	srv, app, _ := newFake(t)
	other := alipayauthtest.NewServer(testAppID)
	defer other.Close()
	id := srv.AddUser(alipayauthtest.User{})
	good, err := srv.PhoneResponse(id)
	require.NoError(t, err)
	var env map[string]string
	require.NoError(t, json.Unmarshal([]byte(good), &env))
	with := func(k, v string) string {
		e := map[string]string{}
		for kk, vv := range env {
			e[kk] = vv
		}
		if v == "\x00delete" {
			delete(e, k)
		} else {
			e[k] = v
		}
		b, _ := json.Marshal(e)
		return string(b)
	}
	otherResp := func() string {
		oid := other.AddUser(alipayauthtest.User{})
		r, err := other.PhoneResponse(oid)
		require.NoError(t, err)
		return r
	}()
	flip := []byte(env["response"])
	if flip[5] == 'A' {
		flip[5] = 'B'
	} else {
		flip[5] = 'A'
	}
	tests := []struct {
		name, resp string
		want       error
	}{
		{"empty", "", miniauth.ErrInvalidPhoneCode},
		{"not JSON", "response=abc", miniauth.ErrInvalidPhoneCode},
		{"too long", strings.Repeat(" ", alipayauth.MaxPhoneResponseLen+1), miniauth.ErrInvalidPhoneCode},
		{"no sign", with("sign", "\x00delete"), miniauth.ErrInvalidPhoneCode},
		{"sign of another key", otherResp, miniauth.ErrInvalidPhoneCode},
		{"tampered ciphertext", with("response", string(flip)), miniauth.ErrInvalidPhoneCode},
		{"sign over the unquoted content does not verify", with("sign", srv.Sign([]byte(env["response"]))), miniauth.ErrInvalidPhoneCode},
		{"sign_type RSA", with("sign_type", "RSA"), miniauth.ErrInvalidPhoneCode},
		{"charset GBK", with("charset", "GBK"), miniauth.ErrInvalidPhoneCode},
		{"encrypt_type other", with("encrypt_type", "SM4"), miniauth.ErrInvalidPhoneCode},
		{"no mobile", srv.PhoneResponseOf([]byte(`{"code":"10000","msg":"Success"}`)), miniauth.ErrInvalidPhoneCode},
		{"mobile not digits", srv.PhoneResponseOf([]byte(`{"code":"10000","msg":"Success","mobile":"1380013800\n"}`)), miniauth.ErrInvalidPhoneCode},
		{"decrypts to something not JSON", srv.PhoneResponseOf([]byte(`mobile=1`)), miniauth.ErrInvalidPhoneCode},
		{"an error code", srv.PhoneRefusal("20000", "isp.unknow-error"), miniauth.ErrInvalidPhoneCode},
		{"no phone capability", srv.PhoneRefusal("40003", "isv.invalid-auth-relations"), miniauth.ErrNotAllowed},
		{"no permission", srv.PhoneRefusal("40006", "isv.insufficient-isv-permissions"), miniauth.ErrNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := app.DecryptPhone(tt.resp)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, p)
			assert.True(t, strings.HasPrefix(err.Error(), "alipayauth: getPhoneNumber: "), err.Error())
			assert.NotContains(t, err.Error(), alipayauthtest.DefaultMobile)
			assert.NotErrorIs(t, err, miniauth.ErrInvalidCode)
		})
	}

	t.Run("a plain, signed response is taken as it is", func(t *testing.T) {
		plain := `{"code":"10000","msg":"Success","mobile":"13700000000"}`
		b, _ := json.Marshal(map[string]string{"response": plain, "sign": srv.Sign([]byte(plain)), "sign_type": "RSA2", "charset": "UTF-8"})
		p, err := app.DecryptPhone(string(b))
		require.NoError(t, err)
		assert.Equal(t, "13700000000", p.PurePhoneNumber)
	})
	t.Run("without an AES key", func(t *testing.T) {
		bare, err := alipayauth.New(testAppID, srv.AppPrivateKey(), srv.AlipayPublicKey())
		require.NoError(t, err)
		_, err = bare.DecryptPhone(good)
		require.ErrorIs(t, err, alipayauth.ErrNoAESKey)
		assert.NotErrorIs(t, err, miniauth.ErrInvalidPhoneCode, "a misconfigured server is not the user's fault")
	})
	t.Run("with another AES key", func(t *testing.T) {
		wrong, err := alipayauth.New(testAppID, srv.AppPrivateKey(), srv.AlipayPublicKey(), alipayauth.WithAESKey(other.AESKey()))
		require.NoError(t, err)
		_, err = wrong.DecryptPhone(good)
		require.ErrorIs(t, err, miniauth.ErrInvalidPhoneCode)
	})
}
