package miniauth

import "context"

// Client is one app on one platform: what every login needs from it.
// Each platform package's *App implements it, and is also the [Apps] of
// its one app.
//
// What else a platform can do is a capability: an interface a client may
// also implement ([Decrypter], [SignatureVerifier], [PhoneExchanger],
// [PhoneDecrypter]). Code that needs one asserts it and answers clearly when
// the client has none.
//
// Implementations must be safe for concurrent use.
type Client interface {
	// Platform returns the platform the app runs on.
	Platform() Platform
	// AppID returns the app's id as the mini-program's front end knows it
	// (Baidu: the AppKey).
	AppID() string
	// Code2Session exchanges the code from the platform's login call
	// (wx.login, qq.login, tt.login, my.getAuthCode, swan.login, ks.login,
	// wx.qy.login) for the user's [Session]. A code works once.
	//
	// A refused code matches [ErrInvalidCode] or [ErrCodeUsed]; a
	// misconfigured app [ErrInvalidCredential] or [ErrNotAllowed]; a busy
	// platform [ErrSystemBusy] (retried first); too many calls
	// [ErrRateLimited].
	Code2Session(ctx context.Context, code string) (*Session, error)
}

// MaxCodeLen is the longest login or phone code a platform client sends
// upstream, and the longest package session reads from a request. Real codes
// are 32 to 64 characters.
const MaxCodeLen = 256

// Decrypter is a [Client] that can decrypt the user data its mini-program
// sends (encryptedData and iv, keyed by the session key): WeChat, QQ, Douyin
// and Kuaishou with AES-128-CBC and a watermark, Baidu with AES-192-CBC and
// its own framing.
type Decrypter interface {
	// Decrypt decrypts encryptedData with the session key and iv and
	// unmarshals the JSON it holds into v. Data encrypted for another app
	// matches [ErrWatermark]; data that does not decrypt matches the
	// crypto package's ErrDecrypt, with no detail (no padding oracle).
	Decrypt(sessionKey, encryptedData, iv string, v any) error
}

// SignatureVerifier is a [Client] whose platform signs the rawData it sends
// beside user data: signature = hex(sha1(rawData + session_key)) on WeChat,
// QQ, Douyin and Kuaishou.
type SignatureVerifier interface {
	// VerifySignature checks signature over rawData with the session key,
	// in constant time.
	VerifySignature(sessionKey, rawData, signature string) error
}

// PhoneExchanger is a [Client] that exchanges the one-time code of the
// mini-program's phone-number button for the user's number on the server
// (WeChat's getuserphonenumber, Douyin's get_phonenumber_info).
type PhoneExchanger interface {
	// GetPhoneNumber exchanges code for the user's phone number. A refused
	// code matches [ErrInvalidPhoneCode] (never [ErrInvalidCode]). Pass
	// [ForOpenID] with the session's openid where the platform can bind the
	// code to its user.
	GetPhoneNumber(ctx context.Context, code string, opts ...PhoneOption) (*PhoneNumber, error)
}

// PhoneDecrypter is a [Client] whose phone number reaches the server as a
// signed and encrypted response from the mini-program, not as a code:
// Alipay's my.getPhoneNumber, whose response is a JSON string.
type PhoneDecrypter interface {
	// DecryptPhone verifies response's signature with the platform's key and
	// decrypts it into the user's phone number. A response that does not
	// verify or decrypt matches [ErrInvalidPhoneCode].
	DecryptPhone(response string) (*PhoneNumber, error)
}

// A PhoneOption configures one [PhoneExchanger.GetPhoneNumber] call.
type PhoneOption func(*PhoneOptions)

// PhoneOptions are the settings of one phone-number exchange, as a
// platform client reads them with [NewPhoneOptions].
type PhoneOptions struct {
	// OpenID, when set, is the openid the phone code must belong to.
	OpenID string
}

// NewPhoneOptions applies opts (nil ones are skipped) to zero PhoneOptions.
func NewPhoneOptions(opts ...PhoneOption) PhoneOptions {
	var o PhoneOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// ForOpenID makes GetPhoneNumber send openid with the code, so that the
// platform refuses a phone code that another user's button press produced
// (a stolen or replayed code). Pass the openid of the logged-in session the
// code arrived with; a login endpoint should always do so. An empty openid
// sends none. A platform that cannot bind a phone code to a user ignores it.
func ForOpenID(openid string) PhoneOption {
	return func(o *PhoneOptions) { o.OpenID = openid }
}
