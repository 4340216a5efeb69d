package account

import (
	"errors"
	"fmt"
)

// Errors of [Linker] and of stores, for errors.Is. None of them, and no error
// of this package, quotes a phone number.
var (
	// ErrNotRegistered: no user has this identity (its openid, or its
	// unionid on its platform), and no phone was given to bind or create
	// one. Resolve created nothing. A login handler gives such a login a
	// token without a subject (see [OnLogin]). A [Tx] lookup that finds
	// nothing returns it too.
	ErrNotRegistered = errors.New("account: not registered")
	// ErrNotFound is the former name of [ErrNotRegistered], the same value:
	// errors.Is matches either.
	//
	// Deprecated: Use [ErrNotRegistered]. session.ErrNotFound means
	// something else (a session store holds no record), and the new name
	// says what the login is: one of no registered user.
	ErrNotFound = ErrNotRegistered
	// ErrPhoneTaken: the phone is bound to a user who already has another
	// openid of this app (the same platform and appid). Nothing was bound.
	ErrPhoneTaken = errors.New("account: phone is bound to another openid of this app")
	// ErrPhoneUnbound: a user has the phone, and the platform did not tie
	// it to this login's openid ([Identity.PhoneBound] false), so it may
	// not join the login to that user (see [WithUnboundPhoneJoin]). Nothing
	// was bound. It matches [ErrPhoneTaken] too, with which [OnLogin]
	// answers 409 phone_taken.
	ErrPhoneUnbound = fmt.Errorf("account: a user has this phone, which the platform did not tie to this openid: %w", ErrPhoneTaken)
	// ErrInvalidIdentity: the [Identity] lacks its AppID or OpenID, names a
	// platform that [miniauth.Platform.Known] does not know, or one of its
	// ids is over [MaxIDLen] bytes or not printable ASCII without spaces;
	// or a user id is empty, over [MaxUserIDLen] bytes or not UTF-8.
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
	// openid of that app (platform and appid) or a phone. Nothing changed and the transaction
	// goes on.
	ErrTaken = errors.New("account: link taken")
)
