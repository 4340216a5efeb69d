package wecomauth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/wecomauth"
	"github.com/wxmp/miniauth/wecomauth/wecomauthtest"
)

func TestEnterpriseUserInfo(t *testing.T) {
	srv, app := newPair(t)
	id := srv.AddUser(wecomauthtest.User{UserID: "zhangsan", Name: "张三", Gender: 1})
	sess, err := app.Code2Session(context.Background(), srv.Login(id))
	require.NoError(t, err)
	p, err := srv.EnterpriseUserInfo(testAppID, id)
	require.NoError(t, err)

	require.NoError(t, app.VerifySignature(sess.SessionKey, p.RawData, p.Signature))
	assert.ErrorIs(t, app.VerifySignature(sess.SessionKey, strings.Replace(p.RawData, "张三", "李四", 1), p.Signature), crypto.ErrSignature)

	var u wecomauth.EnterpriseUserInfo
	require.NoError(t, app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, &u))
	assert.Equal(t, wecomauth.EnterpriseUserInfo{CorpID: testCorpID, UserID: "zhangsan", Name: "张三", Gender: 1,
		Watermark: crypto.Watermark{AppID: testAppID, Timestamp: u.Watermark.Timestamp}}, u)
	assert.NotZero(t, u.Watermark.Timestamp)

	// Made for another mini-program (or with the corpid as appid): refused.
	for _, other := range []string{"wx0000000000000000", testCorpID} {
		op, err := srv.EnterpriseUserInfo(other, id)
		require.NoError(t, err)
		var u2 wecomauth.EnterpriseUserInfo
		assert.ErrorIs(t, app.Decrypt(sess.SessionKey, op.EncryptedData, op.IV, &u2), miniauth.ErrWatermark)
		assert.Zero(t, u2)
	}
	assert.ErrorIs(t, app.Decrypt(sess.SessionKey, "AAAA"+p.EncryptedData[4:], p.IV, &u), crypto.ErrDecrypt)
	assert.Error(t, app.Decrypt(sess.SessionKey, p.EncryptedData, p.IV, u))

	_, err = srv.EnterpriseUserInfo(testAppID, "nobody")
	assert.ErrorIs(t, err, wecomauthtest.ErrUnknownUser)
	srv.AddUser(wecomauthtest.User{UserID: "new"})
	_, err = srv.EnterpriseUserInfo(testAppID, "new")
	assert.ErrorIs(t, err, wecomauthtest.ErrNotLoggedIn)
}
