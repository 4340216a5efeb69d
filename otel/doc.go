// Package miniauthotel records what miniauth does with OpenTelemetry, as
// go-redis's redisotel does for Redis: [NewObserver] returns a
// [miniauth.Observer] to hand to each platform client (wxauth.WithObserver,
// qqauth.WithObserver, ...) and to the session Manager
// (session.WithObserver). The core module has no OpenTelemetry dependency;
// this nested module is the only one that does.
//
// # Traces
//
// Each call to a platform's API is a client span named after the API
// ("code2session", "stable_token"), retries included, with the attributes
// miniauth.platform, miniauth.api, http.request.method, server.address,
// server.port, http.response.status_code, miniauth.attempts, and for a
// refused call miniauth.errcode (the platform's code, such as 40029) and
// error.type (the class of the error: "invalid_code", "timeout", ...).
// No span or metric carries a secret, a login or phone code, a token, an
// openid, a phone number or an error's text.
//
// # Metrics
//
// OpenTelemetry's semantic conventions where they have a name, miniauth's
// own otherwise:
//
//	http.client.request.duration   histogram, s: each HTTP request to a platform
//	miniauth.api.call.duration     histogram, s: each API call, retries included, by errcode
//	miniauth.logins                counter: login and phone requests by outcome
//	miniauth.login.codes_kept      counter: logins refused before spending their code (a dependency down)
//	miniauth.token.refreshes       counter: access-token refreshes, by source and error.type
//	miniauth.dependency.outages    counter: outages of a login-path dependency (the session store)
//	miniauth.dependency.down       updown counter: 1 while a dependency is down
package miniauthotel
