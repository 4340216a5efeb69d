package miniauth

import (
	"context"
	"time"
)

// Observer receives what miniauth does, for metrics and traces: each call
// to a platform's API and each HTTP request it makes, each refresh of an
// app's access token, each login's outcome, and each outage of a store a
// login depends on. The nested module github.com/wxmp/miniauth/otel
// (package miniauthotel) builds one that records them with OpenTelemetry;
// a platform client takes it with its WithObserver option
// (wxauth.WithObserver, ...), a session Manager with session.WithObserver.
//
// Observer is a struct of optional functions, as net/http/httptrace's
// ClientTrace is, rather than an interface: a later field is no breaking
// change for anyone who built one, and a nil field (or a nil *Observer)
// costs a pointer test and nothing else, so an unobserved call allocates
// nothing for it. Every function may be called from many goroutines at
// once; none may block, and none is given a secret, a login or phone code,
// a token, an openid or a phone number.
type Observer struct {
	// CallStart is called as a call to a platform's API begins (before its
	// first HTTP request). The context it returns is the call's, handed to
	// its HTTP requests and to CallEnd: a tracer's span goes in it. nil
	// leaves the context as it is.
	CallStart func(ctx context.Context, call *Call) context.Context
	// CallEnd is called once the call has ended, with call's outcome filled
	// in and the context CallStart returned. It is called whenever the call
	// began, whether CallStart is set or not.
	CallEnd func(ctx context.Context, call *Call)
	// HTTPRequest is called after each HTTP request of a call (a call
	// retries with a new one), with its outcome.
	HTTPRequest func(ctx context.Context, req *HTTPRequest)
	// TokenRefresh is called after each refresh of an app's access token
	// that went to the token store or the platform.
	TokenRefresh func(ctx context.Context, r *TokenRefresh)
	// Login is called once per request to a login or phone handler of
	// package session, with its outcome, whether it was answered 200 or
	// refused.
	Login func(ctx context.Context, l *Login)
	// Outage is called when a dependency of the login path (the session
	// store, the account store, what the login hook calls) stops
	// answering, and again when it answers again.
	Outage func(ctx context.Context, o *Outage)
}

// Call describes one call to a platform's API, retries included: what
// [Observer.CallStart] is given, with its outcome filled in for
// [Observer.CallEnd].
type Call struct {
	// Platform is the platform called.
	Platform Platform
	// API names the API, as the platform's errors do ("code2session",
	// "getuserphonenumber", "stable_token").
	API string
	// Method is the HTTP method, Server the address of the host called
	// ("https://api.weixin.qq.com"): no path, no query.
	Method, Server string
	// Start is when the call began.
	Start time.Time

	// Outcome, set before CallEnd.

	// Attempts is how many HTTP requests were made (1 without a retry).
	Attempts int
	// Status is the HTTP status of the last reply, 0 when none came.
	Status int
	// Code is the platform's error code when the platform refused the call
	// ("40029" for a spent WeChat code), empty otherwise.
	Code string
	// Err is the call's error, nil when it succeeded. Its text is scrubbed
	// of the call's secrets; match it with errors.Is against this
	// package's sentinels rather than show it.
	Err error
}

// HTTPRequest is one HTTP request of a [Call], given to
// [Observer.HTTPRequest].
type HTTPRequest struct {
	// Call is the call the request belongs to (its outcome not yet set).
	Call *Call
	// Attempt counts the call's requests from 1.
	Attempt int
	// Duration is how long the request took, until its reply's body was
	// read.
	Duration time.Duration
	// Status is the reply's HTTP status, 0 when no reply came.
	Status int
	// Err is the request's error, nil when its reply was a success: a
	// connection that failed or a timeout (Status 0), a reply that could
	// not be used, or the platform's refusal.
	Err error
}

// TokenRefresh is one refresh of an app's access token, given to
// [Observer.TokenRefresh].
type TokenRefresh struct {
	// Platform is the token's platform.
	Platform Platform
	// Duration is how long the refresh took, waiting for the store's lock
	// included.
	Duration time.Duration
	// Fetched says whether the token was fetched from its source (the
	// platform's token endpoint, or a TokenSource); false when another
	// instance's token was taken from the store.
	Fetched bool
	// Err is why the refresh failed, nil when it succeeded.
	Err error
}

// Login is the outcome of one request to a login or phone handler, given
// to [Observer.Login].
type Login struct {
	// Platform is the platform of the app that logged in; empty for a
	// refusal (the refusal may come before the app is known).
	Platform Platform
	// Op is the handler: "login" or "phone".
	Op string
	// Status is the HTTP status of the answer: 200, or the refusal's.
	Status int
	// Outcome is "ok", or the refusal's machine code, as the answer's
	// "error" field says it ("invalid_code", "store_unavailable", ...).
	Outcome string
	// CodeKept says that the request was refused before its single-use
	// code was spent, because a dependency was known to be down: the client
	// may retry with the same code.
	CodeKept bool
}

// Outage is a change of a login-path dependency's health, given to
// [Observer.Outage].
type Outage struct {
	// Dependency names what failed: "session store", or a dependency of
	// the login hook as package session names it ("account store").
	Dependency string
	// Down is true when the dependency stopped answering, false when it
	// answers again.
	Down bool
	// Op is the call that saw the change ("get", "put", "probe").
	Op string
	// Duration is, when Down is false, how long the outage lasted.
	Duration time.Duration
	// Refused counts, when Down is false, the calls failed and logins
	// refused during the outage.
	Refused int
}
