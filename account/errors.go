package account

import "errors"

// Errors of [Linker] and of stores, for errors.Is. None of them, and no error
// of this package, quotes a phone number.
var (
	// ErrNotFound: no user has this WeChat identity, and no phone was given
	// to bind or create one. Resolve created nothing. A login handler gives
	// such a login a token without a subject (see [OnLogin]).
	ErrNotFound = errors.New("account: not found")
	// ErrPhoneTaken: the phone is bound to a user who already has another
	// WeChat identity (openid) of this app. Nothing was bound.
	ErrPhoneTaken = errors.New("account: phone is bound to another WeChat identity of this app")
	// ErrInvalidIdentity: the [Identity] lacks its AppID or OpenID, or one
	// of its ids is over [MaxIDLen] bytes or not printable ASCII without
	// spaces; or a user id is empty, over [MaxUserIDLen] bytes or not UTF-8.
	ErrInvalidIdentity = errors.New("account: invalid identity")
	// ErrInvalidPhone: the phone is not a number [NormalizePhone] accepts.
	ErrInvalidPhone = errors.New("account: invalid phone number")
	// ErrConflict is what a [Store] reports when a concurrent transaction
	// won and this one cannot go on: the database refused a statement or
	// the commit (a deadlock, a serialization failure). [Linker] then runs
	// the rules again, on what the winner committed, a bounded number of
	// times; it returns ErrConflict only when every attempt lost.
	ErrConflict = errors.New("account: conflicting concurrent update")
	// ErrTaken is what a [Tx] Bind returns when a unique link refused it:
	// the openid, unionid or phone is bound already, or the user has an
	// openid of that app or a phone. Nothing changed and the transaction
	// goes on.
	ErrTaken = errors.New("account: link taken")
)
