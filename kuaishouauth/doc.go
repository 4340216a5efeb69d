// Package kuaishouauth logs Kuaishou (快手) mini-program users in: the code
// from ks.login for the user's session (open_id, session_key), the rawData
// signature check and the decryption of encryptedData (the profile, and
// the phone number, which Kuaishou hands over only this way), and the
// app's access token.
//
// Kuaishou posts forms and answers {"result":1,...} on success, another
// result with error_msg on failure. An [*App] is a [miniauth.Client], so
// session.LoginHandler serves Kuaishou as it serves WeChat:
//
//	app, err := kuaishouauth.New(os.Getenv("KS_APPID"), os.Getenv("KS_SECRET"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	sess, err := app.Code2Session(ctx, code) // ks.login's code
//	var phone miniauth.PhoneNumber
//	err = app.Decrypt(sess.SessionKey, encryptedData, iv, &phone) // the phone-number button's data
//
// Package kuaishouauthtest is a fake Kuaishou server for tests that run
// offline.
//
// # Errors
//
// Kuaishou's result codes and what they match with errors.Is. 100200100
// and 100200101 are on the access-token page
// (https://mp.kuaishou.com/docs/develop/server/getAccessToken.html); the
// others are the open platform's codes as Kuaishou's own open SDK lists
// them. Kuaishou's code2Session page lists no codes, so which of them a
// refused login code gets rests on that list: 100200105 ("the code is
// wrong").
//
//	result     meaning                                matches
//	1          success
//	100200100  parameters missing or malformed        (none)
//	100200101  app_id or app_secret wrong             miniauth.ErrInvalidCredential
//	100200102  refused: an invalid access token       miniauth.ErrInvalidCredential
//	100200105  the code is wrong (unknown, used)      miniauth.ErrInvalidCode
//	100200108  access token expired                   miniauth.ErrInvalidCredential
//	100200410  rate limited                           miniauth.ErrRateLimited
//	100200500  internal error                         miniauth.ErrSystemBusy
//
// 100200500 is retried on the access-token call only: on code2session the
// code may already be spent. Every other result is an [*APIError] matching
// no sentinel, with Kuaishou's error_msg in Msg. A code refused before any
// request (empty, too long, not printable ASCII) matches
// miniauth.ErrInvalidCode; an HTTP status other than 200 is a
// [*StatusError]; an unusable reply matches miniauth.ErrBadResponse. No
// error, log line or printed value carries the secret, a code, a
// session_key or a token.
package kuaishouauth
