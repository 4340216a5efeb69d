package session

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/wxmp/miniauth"
)

// CodeEncryptedDataUnverified (400) is the machine code [LoginHandler]
// answers with, under [WithEncryptedDataCheck], when WeChat does not vouch
// for the login's encryptedData: it did not produce it for this app in the
// last three days. The payload decrypted, but a client can forge one that
// does (AES-CBC has no integrity); the client sends the data WeChat gave it,
// or logs in without it. No token is issued and the phone code, if any, is
// not spent.
const CodeEncryptedDataUnverified = "encrypted_data_unverified"

// EncryptedDataChecker is a client that can ask its platform whether
// encryptedData was produced by the platform for the app, as *wxauth.App
// does with WeChat's checkencryptedmsg (wxauth.App.CheckEncryptedData): valid
// reports whether the platform vouches for it, createdAt when it was
// produced. An error means the platform could not be asked, and says nothing
// about the data. [WithEncryptedDataCheck] needs one. Implementations must be
// safe for concurrent use.
type EncryptedDataChecker interface {
	CheckEncryptedData(ctx context.Context, encryptedData string) (valid bool, createdAt time.Time, err error)
}

// WithEncryptedDataCheck makes [LoginHandler] ask WeChat whether a login's
// encryptedData was produced by WeChat for this app in the last three days
// (wxauth.App.CheckEncryptedData) once it has decrypted and checked it, and
// before the phone code is exchanged and the [WithOnLogin] hook sees
// [LoginInfo.UserInfo]. Decrypted fields are otherwise not authenticated:
// the client picks the iv, and with it, without knowing the key, the first
// block of the plaintext, so it can hand the hook a payload that decrypts,
// with a valid watermark, into fields it chose.
//
// The hash WeChat checks is of encryptedData, not of the iv: the check
// stops a changed ciphertext (a forged city, phone number or unionId past
// the first block), not a changed iv, which still sets the first 16 bytes of
// the plaintext ({"nickName":"Ali of a profile; the fixed {"phoneNumber":"
// of phone data). Fields there stay unauthenticated.
//
// Data WeChat does not vouch for is refused 400 encrypted_data_unverified
// ([CodeEncryptedDataUnverified]); when WeChat cannot be asked, the login is
// refused as for any failure of WeChat (502 wechat_unavailable, 500 for a
// misconfigured app; see [WeChatError]): not the user's fault, and nothing
// is issued or spent. Each checked login costs one more call to WeChat. A
// login without encryptedData is not checked; [PhoneHandler] has none and
// ignores the option.
//
// WeChat's page says the check "currently supports only encrypted phone
// number data" (当前只支持手机号加密数据,
// https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/basic-info/api_checkencrypteddata.html):
// a payload of a kind WeChat does not record is refused like a forged one.
// Turn the option on for the payloads your mini-program sends only once
// WeChat answers valid for them.
//
// The handler's client must be an [EncryptedDataChecker] (as *wxauth.App
// is); one that is not makes a handler that answers every request 500 and
// logs why at Error. A handler of several apps refuses the encryptedData of
// an app whose client is not one 400 not_supported: the hook never sees data
// that was not vouched for.
func WithEncryptedDataCheck() LoginOption {
	return func(f *flow) {
		f.checkEncrypted = true
		if _, ok := f.single.(EncryptedDataChecker); f.single != nil && !ok && f.err == nil {
			f.err = errors.New("session: WithEncryptedDataCheck: the handler's client has no CheckEncryptedData (see session.EncryptedDataChecker)")
		}
	}
}

// verifyEncryptedData asks client, under [WithEncryptedDataCheck], whether
// WeChat produced encryptedData; it answers nil without the option.
func (f *flow) verifyEncryptedData(ctx context.Context, c miniauth.Client, encryptedData string) *HTTPError {
	if !f.checkEncrypted {
		return nil
	}
	checker, ok := c.(EncryptedDataChecker)
	switch {
	case !ok && f.single != nil:
		return serverError(errors.New("session: WithEncryptedDataCheck: the client has no CheckEncryptedData (see session.EncryptedDataChecker)"))
	case !ok: // an app of a set whose platform cannot vouch for its data: fail closed
		return notSupported(c, "encryptedData with WithEncryptedDataCheck")
	}
	valid, _, err := checker.CheckEncryptedData(ctx, encryptedData)
	if err != nil {
		return WeChatError(ctx, err)
	}
	if !valid {
		return &HTTPError{Status: http.StatusBadRequest, Code: CodeEncryptedDataUnverified,
			Message: "WeChat did not produce this encryptedData for this mini-program in the last 3 days",
			Err:     errors.New("session: login: checkencryptedmsg does not vouch for the encryptedData")}
	}
	return nil
}
