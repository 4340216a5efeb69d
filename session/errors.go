package session

import "errors"

// Errors returned by this package, for [errors.Is].
var (
	// ErrInvalidToken means a login token is unknown (never issued, revoked,
	// or dropped by the store), malformed or too long. The client must log in
	// again.
	ErrInvalidToken = errors.New("session: invalid token")

	// ErrExpired means a login token was valid but its session has passed
	// its expiry time. The client must log in again.
	ErrExpired = errors.New("session: token expired")

	// ErrNotFound is what a [Store] returns from Get when it holds no record
	// under a key (or only an expired one). [Manager] turns it into
	// [ErrInvalidToken].
	ErrNotFound = errors.New("session: record not found")

	// ErrStoreUnavailable means the store could not be reached or did not
	// answer (a Redis outage, a timeout). A token checked while the store is
	// down is neither valid nor invalid: [Manager.Middleware] answers 503, so
	// that the client keeps its token and retries instead of logging in again.
	// Stores wrap their cause beside it.
	ErrStoreUnavailable = errors.New("session: store unavailable")
)
