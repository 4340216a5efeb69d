package wxauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/crypto"
	"github.com/wxmp/miniauth/internal/wxmock"
)

func TestCheckEncryptedData(t *testing.T) {
	t.Parallel()
	const data = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
	hash := EncryptedDataHash(data)
	tests := []struct {
		name      string
		data      string
		reply     string
		valid     bool
		createdAt time.Time
		is        error
		noCalls   bool
	}{
		{name: "valid, WeChat's spelling", data: data, reply: `{"errcode":0,"errmsg":"ok","vaild":true,"create_time":1629121902}`,
			valid: true, createdAt: time.Unix(1629121902, 0)},
		{name: "valid, fixed spelling", data: data, reply: `{"errcode":0,"errmsg":"ok","valid":true,"create_time":1629121902}`,
			valid: true, createdAt: time.Unix(1629121902, 0)},
		{name: "valid without a time", data: data, reply: `{"errcode":0,"errmsg":"ok","vaild":true}`, valid: true},
		{name: "not valid", data: data, reply: `{"errcode":0,"errmsg":"ok","vaild":false,"create_time":1629121902}`},
		{name: "data not exit", data: data, reply: `{"errcode":1,"errmsg":"data not exit rid: 66b1a2b3-1c2d3e4f-5a6b7c8d"}`},
		{name: "invalid args", data: data, reply: `{"errcode":40097,"errmsg":"invalid args"}`, is: ErrRequestRejected},
		{name: "busy", data: data, reply: `{"errcode":-1,"errmsg":"system error"}`, is: ErrSystemBusy},
		{name: "not JSON", data: data, reply: `<html>`, is: ErrBadResponse},
		{name: "empty", data: "", is: ErrInvalidEncryptedData, noCalls: true},
		{name: "too long", data: strings.Repeat("A", crypto.MaxEncryptedDataLen+1), is: ErrInvalidEncryptedData, noCalls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, up, _, _ := testApp(t, WithRetry(0))
			calls, last := replyWith(t, up, http.MethodPost, pathCheckEncryptedMsg, tt.reply)
			valid, createdAt, err := a.CheckEncryptedData(context.Background(), tt.data)
			if tt.noCalls {
				assert.Equal(t, int32(0), calls.Load())
				assert.Equal(t, 0, up.Fetches(), "no token fetched for bad input")
			} else {
				assert.Equal(t, int32(1), calls.Load())
			}
			assert.Equal(t, tt.valid, valid)
			assert.True(t, tt.createdAt.Equal(createdAt), "createdAt %v, want %v", createdAt, tt.createdAt)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
				assert.True(t, strings.HasPrefix(err.Error(), "wxauth: checkencryptedmsg: "), err.Error())
				return
			}
			require.NoError(t, err)
			req, body := last()
			assert.Equal(t, wxmock.Token(1), req.URL.Query().Get("access_token"))
			var sent map[string]string
			require.NoError(t, json.Unmarshal([]byte(body), &sent))
			assert.Equal(t, map[string]string{"encrypted_msg_hash": hash}, sent)
		})
	}
}

func TestEncryptedDataHash(t *testing.T) {
	t.Parallel()
	// sha256("abc"), FIPS 180-2's example: the hash is of the text as given.
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", EncryptedDataHash("abc"))
	assert.Len(t, EncryptedDataHash(""), 64)
}
