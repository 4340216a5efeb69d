package wxauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/wxmp/miniauth/crypto"
)

// The two signatures of WeChat's virtual payment (虚拟支付, xpay), as
// https://developers.weixin.qq.com/minigame/dev/guide/open-ability/virtual-payment/signature.html
// defines them and as the mini-program's virtual payment
// (https://developers.weixin.qq.com/miniprogram/dev/platform-capabilities/business-capabilities/virtual-payment.html)
// uses them: both hex, lower case, of an HMAC-SHA256 over text exactly as it
// is sent, with a key used as the text it is (never base64-decoded).

// XPayUserSignature returns the user login-state signature (用户态签名,
// "signature") of a virtual-payment request: hex(hmac_sha256(key =
// session_key, message = postBody)), in lower case. It goes in the query
// string of the server APIs (with sig_method=hmac_sha256) and beside signData
// in wx.requestVirtualPayment.
//
// sessionKey is the user's current session_key exactly as jscode2session
// returned it: its base64 TEXT is the HMAC key, 24 bytes such as
// "9hAb/NEYUlkaMBEsmFgzig==", not the 16 bytes it decodes to (WeChat's
// example above signs with the string; a key decoded first, or a signature
// in upper case, is what makes other SDKs' users meet WeChat's signature
// errors -15005 and 268490003). A handler behind
// session.Manager.Middleware reads it from the request's record (the
// SessionKey field of session.Record); a key WeChat rotated since (the user
// called wx.login again) makes a signature WeChat refuses.
//
// postBody must be the very bytes sent (the JSON of the request body, or
// signData as the mini-program passes it): re-encoding JSON changes spacing
// and key order, and with them the signature.
func XPayUserSignature(sessionKey, postBody string) string {
	return crypto.LoginStateSignature(sessionKey, []byte(postBody))
}

// XPayPaySignature returns the payment request signature (支付请求签名,
// "pay_sig") of a virtual-payment request: hex(hmac_sha256(key = appKey,
// message = uri + "&" + postBody)), in lower case.
//
// appKey is the AppKey of the payment environment the request names (env 0
// or 1: the console's 支付基础配置 shows one of each), as the console shows
// it. uri is the API's path without host or query, such as
// "/xpay/query_user_balance" or "/wxa/game/getbalance". postBody must be the
// very bytes sent, as for [XPayUserSignature].
func XPayPaySignature(appKey, uri, postBody string) string {
	m := hmac.New(sha256.New, []byte(appKey))
	_, _ = io.WriteString(m, uri)
	_, _ = io.WriteString(m, "&")
	_, _ = io.WriteString(m, postBody)
	return hex.EncodeToString(m.Sum(nil))
}
