package session_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// checkedEnv is a login handler with WithEncryptedDataCheck against the
// fake WeChat, counting the hook's calls.
type checkedEnv struct {
	fake  *wxauthtest.Server
	h     http.Handler
	hooks atomic.Int32
	seen  atomic.Pointer[session.LoginInfo]
}

func newCheckedEnv(t *testing.T) *checkedEnv {
	t.Helper()
	e := &checkedEnv{fake: wxauthtest.NewServer(testAppID, testSecret)}
	t.Cleanup(e.fake.Close)
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(e.fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	e.h = session.LoginHandler(app, newManager(t, nil), session.WithEncryptedDataCheck(),
		session.WithOnLogin(func(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
			e.hooks.Add(1)
			e.seen.Store(info)
			return nil, nil
		}))
	return e
}

func (e *checkedEnv) login(t *testing.T, fields map[string]string) (int, map[string]any) {
	t.Helper()
	rr := serve(t, e.h, postLogin(loginBody(t, fields)))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &body), rr.Body.String())
	return rr.Code, body
}

func TestWithEncryptedDataCheck(t *testing.T) {
	t.Parallel()
	e := newCheckedEnv(t)
	id := e.fake.AddUser(wxauthtest.User{NickName: "Alice", City: "Shenzhen"})

	// What WeChat made: vouched for, handed to the hook.
	code := e.fake.Login(id)
	p, err := e.fake.Profile(id)
	require.NoError(t, err)
	status, body := e.login(t, map[string]string{"code": code, "encryptedData": p.EncryptedData, "iv": p.IV})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "Shenzhen", e.seen.Load().UserInfo.City)
	assert.Equal(t, 1, e.fake.Calls(wxauthtest.PathCheckEncrypted))

	// A payload that decrypts with this login's key and a good watermark,
	// but that WeChat did not make (the forged city): refused 400 before the
	// hook, and the phone code sent with it is not spent.
	code = e.fake.Login(id)
	key, err := e.fake.SessionKey(id)
	require.NoError(t, err)
	real, err := e.fake.Profile(id)
	require.NoError(t, err)
	plain, err := crypto.Decrypt(key, real.EncryptedData, real.IV)
	require.NoError(t, err)
	forgedPlain := strings.Replace(string(plain), `"city":"Shenzhen"`, `"city":"Beijing"`, 1)
	require.NotEqual(t, string(plain), forgedPlain)
	forged, err := crypto.Encrypt(key, real.IV, []byte(forgedPlain))
	require.NoError(t, err)
	phoneCode, err := e.fake.PhoneCode(id)
	require.NoError(t, err)
	status, body = e.login(t, map[string]string{"code": code, "encryptedData": forged, "iv": real.IV, "phoneCode": phoneCode})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, session.CodeEncryptedDataUnverified, body["error"])
	assert.Equal(t, int32(1), e.hooks.Load(), "the hook never saw the forged payload")
	assert.Equal(t, 0, e.fake.Calls(wxauthtest.PathPhoneNumber), "the phone code is not spent")

	// A login without encryptedData asks WeChat nothing more.
	status, body = e.login(t, map[string]string{"code": e.fake.Login(id)})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, 2, e.fake.Calls(wxauthtest.PathCheckEncrypted))
}

// The hash covers encryptedData, not the iv: the client still picks the
// first 16 bytes of the plaintext ({"nickName":"Ali...) without the key, and
// WeChat vouches for the ciphertext all the same. The check stops a changed
// ciphertext (the city above), not a changed iv; the doc of
// WithEncryptedDataCheck and LoginInfo.UserInfo say so.
func TestWithEncryptedDataCheckDoesNotCoverTheIV(t *testing.T) {
	t.Parallel()
	e := newCheckedEnv(t)
	id := e.fake.AddUser(wxauthtest.User{NickName: "Alice"})
	code := e.fake.Login(id)
	p, err := e.fake.Profile(id)
	require.NoError(t, err)
	iv, err := base64.StdEncoding.DecodeString(p.IV)
	require.NoError(t, err)
	// {"nickName":"Alice"...: bytes 13 to 15 of the first block are "Ali".
	for i, c := range []byte("Eve") {
		iv[13+i] ^= "Ali"[i] ^ c
	}
	status, body := e.login(t, map[string]string{"code": code, "encryptedData": p.EncryptedData,
		"iv": base64.StdEncoding.EncodeToString(iv)})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "Evece", e.seen.Load().UserInfo.NickName)
}

func TestWithEncryptedDataCheckWeChatDown(t *testing.T) {
	t.Parallel()
	e := newCheckedEnv(t)
	id := e.fake.AddUser(wxauthtest.User{})
	code := e.fake.Login(id)
	p, err := e.fake.Profile(id)
	require.NoError(t, err)
	phoneCode, err := e.fake.PhoneCode(id)
	require.NoError(t, err)
	require.NoError(t, e.fake.FailNext(wxauthtest.PathCheckEncrypted, -1))
	status, body := e.login(t, map[string]string{"code": code, "encryptedData": p.EncryptedData, "iv": p.IV, "phoneCode": phoneCode})
	assert.Equal(t, http.StatusBadGateway, status, "not the user's fault")
	assert.Equal(t, session.CodeWeChatUnavailable, body["error"])
	assert.Equal(t, int32(0), e.hooks.Load())
	assert.Equal(t, 0, e.fake.Calls(wxauthtest.PathPhoneNumber))

	// The client retries with a fresh login (wx.login rotates the key, so
	// a fresh profile too) and the same phone code.
	code = e.fake.Login(id)
	p, err = e.fake.Profile(id)
	require.NoError(t, err)
	status, body = e.login(t, map[string]string{"code": code, "encryptedData": p.EncryptedData, "iv": p.IV, "phoneCode": phoneCode})
	require.Equal(t, http.StatusOK, status, body)
	require.NotNil(t, e.seen.Load().Phone, "the phone code survived the outage")
}

func TestWithEncryptedDataCheckNeedsAChecker(t *testing.T) {
	t.Parallel()
	app, err := wxauth.New(testAppID, testSecret)
	require.NoError(t, err)
	h := session.LoginHandler(plainClient{app}, newManager(t, nil), session.WithEncryptedDataCheck())
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, postLogin(`{"code":"abc"}`))
	assert.Equal(t, http.StatusInternalServerError, rr.Code)
	assert.Contains(t, rr.Body.String(), session.CodeServerError)
}
