// Package wxauth is a client for WeChat's mini-program login APIs.
//
// [New] returns an [*App] for one mini-program (appid and secret). Its
// [App.Code2Session] turns the code from wx.login into a [Session] (openid,
// unionid, session_key); [App.VerifySignature] checks the rawData signature of
// wx.getUserProfile; [App.Decrypt] decrypts encryptedData and checks that its
// watermark names this app. Code that depends on these three should take the
// [Client] interface, so its tests can hand in a fake.
//
// Defaults are meant for production: a 5 s timeout per request, two retries
// (with exponential backoff and jitter, never past the context's deadline) of
// errcode -1, HTTP 5xx and failed connections, reply bodies capped at 1 MiB,
// no redirects followed.
//
// Secrets stay secret. WeChat takes the app secret and the code in the query
// string; every URL that reaches an error is redacted, nothing is logged
// with a query string, and [Session] prints its session_key as REDACTED under
// fmt, slog and encoding/json.
//
// Errors are typed: a WeChat errcode is an [*APIError], and the codes callers
// branch on are sentinels ([ErrInvalidCode], [ErrCodeUsed], [ErrRateLimited],
// ...) matched with [errors.Is]. A failed request wraps its cause, so
// errors.Is(err, context.DeadlineExceeded) holds after a timeout.
package wxauth
