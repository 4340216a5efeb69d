package wxauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wxmp/miniauth/crypto"
)

// opCheckEncryptedData is the Op of errors from [App.CheckEncryptedData].
const opCheckEncryptedData = "checkencryptedmsg"

// pathCheckEncryptedMsg is the path of checkencryptedmsg.
const pathCheckEncryptedMsg = "/wxa/business/checkencryptedmsg"

// errcodeDataNotExist is checkencryptedmsg's "data not exit": WeChat has no
// record of the hash (not made by WeChat, older than three days, or made for
// another appid).
const errcodeDataNotExist = 1

// ErrInvalidEncryptedData means encryptedData was refused before any request
// to WeChat: empty, or longer than [crypto.MaxEncryptedDataLen].
var ErrInvalidEncryptedData = errors.New("wxauth: invalid encryptedData")

// EncryptedDataHash returns what POST /wxa/business/checkencryptedmsg
// expects as encrypted_msg_hash for encryptedData: the lower-case hex of the
// SHA-256 of encryptedData's text exactly as the mini-program received it
// (its base64 text, not the bytes it decodes to).
//
// WeChat's page (see [App.CheckEncryptedData]) says "加密数据的sha256，通过
// Hex（Base16）编码后的字符串" (the SHA-256 of the encrypted data, hex-encoded)
// and publishes no input beside its example hash; "the encrypted data" is
// the encryptedData string WeChat hands the mini-program, and the SDKs seen
// that compute the hash themselves (a Java SDK's
// DigestUtils.sha256Hex(encryptedData), a Go SDK's sha256 of the string) hash
// that string. No published pair of data and hash settles it; should WeChat
// hash the decoded bytes instead, every check answers valid == false.
func EncryptedDataHash(encryptedData string) string {
	sum := sha256.Sum256([]byte(encryptedData))
	return hex.EncodeToString(sum[:])
}

// checkEncryptedBody is checkencryptedmsg's request body.
type checkEncryptedBody struct {
	Hash string `json:"encrypted_msg_hash"`
}

// checkEncryptedReply is checkencryptedmsg's reply. WeChat spells the field
// "vaild"; "valid" is read too, should WeChat ever fix the spelling.
type checkEncryptedReply struct {
	baseReply
	Vaild      bool  `json:"vaild"`
	Valid      bool  `json:"valid"`
	CreateTime int64 `json:"create_time"`
}

// CheckEncryptedData asks WeChat whether encryptedData (as a mini-program
// received it from WeChat, base64) was produced by WeChat for this app in
// the last three days (POST /wxa/business/checkencryptedmsg, with the
// access token and only the hash of the data: [EncryptedDataHash]). It
// returns valid and, for valid data, when WeChat produced it.
//
// It is the authenticated answer to what decryption cannot tell: AES-CBC
// has no integrity and the client picks the iv, so a client can make
// encryptedData that decrypts, with a good watermark, into fields it chose
// (see [App.Decrypt]). WeChat's record of what it produced is not
// malleable. It covers the ciphertext only: the iv is not hashed, so a
// client still sets the first 16 bytes of the plaintext through it.
//
// WeChat's page says the check "currently supports only encrypted phone
// number data" (当前只支持手机号加密数据) and covers three days: data it
// does not know (forged, older, of another app, or of a kind it does not
// record) is its errcode 1, "data not exit", which this method returns as
// valid == false with a nil error. Other refusals are [*APIError]s and
// failures to ask are errors as for the other calls; they say nothing about
// the data. Empty encryptedData, or encryptedData over
// [crypto.MaxEncryptedDataLen] bytes, is [ErrInvalidEncryptedData] without a
// request.
//
// With the API security mode on ([WithAPISecurity]) the call is signed and
// encrypted, as the page allows.
//
// Reference: https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/basic-info/api_checkencrypteddata.html
func (a *App) CheckEncryptedData(ctx context.Context, encryptedData string) (valid bool, createdAt time.Time, err error) {
	const op = opCheckEncryptedData
	if encryptedData == "" || len(encryptedData) > crypto.MaxEncryptedDataLen {
		return false, time.Time{}, fmt.Errorf("wxauth: %s: encryptedData must be 1 to %d bytes: %w",
			op, crypto.MaxEncryptedDataLen, ErrInvalidEncryptedData)
	}
	var r checkEncryptedReply
	err = a.callWithToken(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   pathCheckEncryptedMsg,
		body:   checkEncryptedBody{Hash: EncryptedDataHash(encryptedData)},
	}, &r)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == errcodeDataNotExist {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	if !r.Vaild && !r.Valid {
		return false, time.Time{}, nil
	}
	if r.CreateTime > 0 {
		createdAt = time.Unix(r.CreateTime, 0)
	}
	return true, createdAt, nil
}
