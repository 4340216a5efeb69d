// Package engine is the machinery every platform client of miniauth shares:
// the request loop (per-attempt timeouts, retries with backoff under the
// context's deadline, reply bodies read under 1 MiB into pooled buffers,
// redaction of secrets from every error and log line, a silent resty) and,
// driven by the platform, the error envelope of each endpoint. A platform
// package (wxauth, qqauth, douyinauth, ...) is a dialect on it: its
// endpoints, its reply types and its errors.
//
// # Building a client
//
// A platform's New resolves its options, then builds one [Client] from a
// [Config] and keeps it:
//
//	eng, err := engine.New(engine.Config{
//		Package:        "kuaishouauth",     // prefix of errors and log lines
//		Upstream:       "kuaishou",         // "malformed reply from kuaishou"
//		HTTPClient:     cfg.httpClient,     // copied; nil: DefaultTransport
//		Timeout:        cfg.timeout,        // per attempt
//		Retries:        cfg.retries,
//		BackoffBase:    cfg.backoffBase,
//		BackoffLimit:   cfg.backoffLimit,
//		Logger:         cfg.logger,
//		Secrets:        []string{secret},   // scrubbed from every error and log line
//		ErrBadResponse: ErrBadResponse,     // what malformed replies match
//	})
//
// [Settings] holds the options every platform shares (base URL, HTTP
// client, timeout, retries, backoff, logger, clock, token store and
// source) with setters that check them as wxauth does: a platform's config
// embeds it, each of its With... options is one call, and
// Settings.Config and Settings.TokenConfig build the two Configs.
// [BaseURL] checks a WithBaseURL argument; [DefaultTransport] is what a
// client without a transport of its own gets.
//
// # The dialect: one reply type per envelope
//
// A reply type says whether a decoded reply failed and builds the
// platform's typed error for it; embed it in each endpoint's reply struct.
// The envelope belongs to the endpoint, not to the platform (Douyin has
// three: err_no/err_tips, err_no/err_msg, data.error_code/description), so
// a platform may have several. Kuaishou's result≠1:
//
//	type baseReply struct {
//		Result   int    `json:"result"`
//		ErrorMsg string `json:"error_msg"`
//	}
//
//	func (r *baseReply) Failed() bool { return r.Result != 1 }
//
//	func (r *baseReply) Err(op string, s engine.Scrubber) (retry bool, err error) {
//		return false, &APIError{Op: op, Code: r.Result, Msg: s.Clean(r.ErrorMsg)}
//	}
//
//	type code2SessionReply struct {
//		baseReply
//		OpenID     string `json:"open_id"`
//		SessionKey string `json:"session_key"`
//	}
//
// WeChat's errcode/errmsg envelope, which QQ's and WeCom's copy, is
// [ErrcodeReply]: such a platform's reply type embeds it and adds only Err.
// What every dialect's typed error shares is here too: [Scrubber.Clean]
// (secrets out, then [CleanMsg]: control characters out, cut to
// [MaxMsgLen]) for the text it keeps of a reply, [APIErrorText] and
// [StatusText] for its Error, [IsSentinel] for its Is by the platform's
// table. The table, the exported error types and their documentation stay
// the platform's.
//
// Err returns retry=true only for the platform's "busy, try again" code,
// never for a code after which the single-use login code may be spent. Its
// error should be typed (errors.As) and match the shared sentinels
// (errors.Is) by the platform's own table of codes. Codes sent as strings
// (Baidu's "invalid_grant", Alipay's "isv.code-invalid") are the reply
// type's business: decode them into whatever the table is keyed by.
//
// A reply type that needs the raw body (Alipay verifies an RSA2 signature
// over the raw JSON of its response) or decodes a hot endpoint faster than
// encoding/json implements [BodyDecoder]; it reports a body it refuses with
// [Malformed]. The body is reused after the call: keep no slice of it.
//
// # Calling
//
// Each call is a [Request] value and one [Client.Do]:
//
//	var r code2SessionReply
//	err := a.eng.Do(ctx, engine.Request{
//		Op:      "code2session",
//		Method:  http.MethodPost,
//		Base:    a.baseURL,                 // one per host: Douyin has two
//		Path:    "/oauth2/mp/code2session",
//		Form:    url.Values{"app_id": {a.appID}, "app_secret": {a.secret}, "js_code": {code}},
//		Secrets: []string{code},            // this call's secrets
//	}, &r)
//
// A Request carries a query (Query, or a pre-encoded RawQuery for a hot
// path), a JSON or a form body, extra headers (Douyin's access-token: list
// the token in Secrets too), the call's secrets, and ErrorStatus for an
// OAuth-style endpoint that answers a refusal with a 4xx and an error body
// (Baidu's oauth/2.0/token). Do retries a dial
// error, a 5xx and what Err calls retryable, never a timeout; it returns
// Err's error, Config.StatusError's for a status other than 200 (default
// [StatusError]), a [ReplyError] matching ErrBadResponse for a reply that
// cannot be decoded or is too long, and for a request that got no reply a
// scrubbed error that still unwraps to its cause. The checks of a decoded
// success (an openid present, a session_key of the platform's length) are
// the platform's: [Client.BadReply] makes their error.
//
// # The app token
//
// A platform with an app access token (all but Alipay) builds one
// [TokenCache] per app in its New, from its fetch and its renewal rule;
// the token types are the root package's (miniauth.Token, TokenSource,
// TokenStore, MemoryTokenStore), so one store serves every platform:
//
//	var src miniauth.TokenSource = engine.TokenSourceFunc(a.fetchToken)
//	if cfg.tokenSource != nil {
//		src = cfg.tokenSource // the user's WithTokenSource
//	}
//	a.tokens, err = a.eng.NewTokenCache(engine.TokenConfig{
//		Key:        "qq:" + a.appID,      // WeChat: the bare appid; others: "platform:" first
//		Source:     src,
//		Store:      cfg.tokenStore,       // nil: a MemoryTokenStore on Now
//		Margin:     engine.DefaultMargin, // how long before expiry to renew
//		FailClosed: true,                 // a fetch retires the old token (QQ, WeChat classic)
//		RetryGap:   10 * time.Second,     // no refresh this long after one failed
//		Now:        cfg.now,
//	})
//
// fetchToken calls the token endpoint with Do and checks the reply with
// [TokenFromReply] (access token and expires_in, up to the platform's
// longest life). [TokenCache.Get] returns the cached token without a lock
// or an allocation, renews it in the background once due (one fetch per
// process, and through the store's lock one per fleet), and waits for a
// fetch only when there is no valid token. A call that carries the token
// goes through [TokenCache.Call] with the dialect's "token refused" test
// (WeChat's 40001, 40014, 42001; Douyin's 28001008): the refused token is
// dropped, from the store too, and the call made once more with a new one.
//
// The renewal rules of the platforms, as TokenConfig says them: WeChat's
// stable_token renews in its last five minutes and the old token stays
// valid (DefaultMargin); WeChat's classic token and QQ's are retired by
// the next fetch (FailClosed: a fleet must share one store); Douyin's
// refetch leaves the old one five minutes (DefaultMargin stays inside
// them; FailClosed for a plain client_token, of which only the two newest
// stay valid, not for a stable one); Kuaishou's 48 h tokens stay valid
// beside their successor (MarginUpTo(30 min)); WeCom's gettoken hands out
// the same token while it is valid (MarginUpTo(5 min)). qqauth,
// kuaishouauth, wecomauth and douyinauth all wait RetryGap 10 s after a
// failed refresh.
//
// A platform's options embed [Settings] (DefaultSettings and one setter
// per shared option), and [Settings.Config] builds the Client.
//
// # Observing
//
// [Config.Observer] (a platform's WithObserver, through
// [Settings.SetObserver]) is told of each call ([Client.Do]: its API, its
// HTTP requests with their statuses, its outcome) and of each token
// refresh. A platform's typed error implements [CodedError] so that the
// observer learns the platform's error code. Without an observer a call
// tests one pointer and allocates nothing more.
package engine
