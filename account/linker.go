package account

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// maxAttempts is how many times Resolve runs the rules when concurrent
// Resolves keep winning the race; two suffice in practice (the loser sees
// the winner's links the second time).
const maxAttempts = 10

// NewUserFunc creates the application's user for an identity that no user
// has yet, and returns its id. id is normalised: its Platform is set
// ([miniauth.WeChat] for an Identity without one) and its Phone is in the
// form of [NormalizePhone].
//
// It runs inside the store's transaction, with the ctx that [Store.Update]
// gave: with package sqlstore, sqlstore.TxFromContext(ctx) is the
// transaction of the links, so that the user row and its links commit, or
// roll back, together. It may run more than once for one Resolve (the
// attempts that lost a race roll back): a user it creates outside that
// transaction is then left without links.
type NewUserFunc func(ctx context.Context, id Identity) (userID string, err error)

// An Option configures a [Linker].
type Option func(*Linker)

// WithNewUser sets the callback that creates a user (see [NewUserFunc]). The
// default makes user ids of 32 random hex digits, for an application that
// keeps no users table of its own. A nil f panics.
func WithNewUser(f NewUserFunc) Option {
	if f == nil {
		panic("account: WithNewUser: nil callback")
	}
	return func(l *Linker) { l.newUser = f }
}

// WithUnboundPhoneJoin lets a phone the platform did not tie to the
// login's openid ([Identity.PhoneBound] false: Douyin's phone codes,
// Alipay's phone responses) join the login to the user who has the phone
// (rule 3 of [Linker.Resolve]). Without it such a login fails with
// [ErrPhoneUnbound], since whoever holds another person's phone proof (a
// code seen in transit, an Alipay response read from a log) would
// otherwise log in as that person. Give it only when the application
// checks the number itself first (an SMS code).
func WithUnboundPhoneJoin() Option {
	return func(l *Linker) { l.unboundPhoneJoin = true }
}

// Linker binds platform identities and phones to the application's users,
// by the rules of [Linker.Resolve], in a [Store]. It is safe for concurrent
// use.
type Linker struct {
	store            Store
	newUser          NewUserFunc
	unboundPhoneJoin bool // WithUnboundPhoneJoin
}

// NewLinker returns a Linker that keeps its links in store. A nil store or
// option panics: they are mistakes of the program, not of a request.
func NewLinker(store Store, opts ...Option) *Linker {
	if store == nil {
		panic("account: NewLinker: nil store")
	}
	l := &Linker{store: store, newUser: randomUserID}
	for _, o := range opts {
		if o == nil {
			panic("account: NewLinker: nil option")
		}
		o(l)
	}
	return l
}

// New is [NewLinker], under the name it had first.
//
// Deprecated: Use [NewLinker], which says what it returns.
func New(store Store, opts ...Option) *Linker { return NewLinker(store, opts...) }

// Ready reports whether the Linker's store can serve now: nil, or the
// error of the store's readiness probe ([ReadyStore]). A store without
// one, such as the memory store, is always ready. It is the probe to
// register with session.WithDependency ("account store", l.Ready).
func (l *Linker) Ready(ctx context.Context) error {
	if rs, ok := l.store.(ReadyStore); ok {
		return rs.Ready(ctx)
	}
	return nil
}

// randomUserID is the default NewUserFunc.
func randomUserID(context.Context, Identity) (string, error) {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:]), nil
}

// Resolve returns the user that id belongs to, binding or creating one by
// these rules, in order:
//
//  1. (Platform, AppID, OpenID) is bound to a user: that user. When id has a
//     phone and the user has none, the phone is bound to the user if no one
//     has it.
//  2. Else the UnionID is bound, on id's Platform, to a user (the same
//     person in another of the application's mini-programs on this
//     platform, or its official account): the openid is bound to that
//     user, and the phone as in rule 1. (A user has one openid an app:
//     when the unionid's user has another openid of this app, the unionid
//     is not bound and rule 3 decides.) A unionid of another platform is
//     another unionid, whatever its text.
//  3. Else, with a phone: when a user has the phone and no openid of this
//     app (this platform and appid), the openid is bound to that user (so
//     the phone joins one person's identities across apps and platforms),
//     if the platform tied the phone to the openid ([Identity.PhoneBound];
//     otherwise [ErrPhoneUnbound], unless [WithUnboundPhoneJoin]);
//     when the phone's user has another openid of this app, Resolve fails
//     with [ErrPhoneTaken]; when no user has the phone, a new one is created
//     (by the [WithNewUser] callback) and bound to the phone, the openid
//     and the UnionID.
//  4. Else (no phone): [ErrNotRegistered], and nothing is created.
//
// An id without a Platform is a WeChat one. A UnionID not bound yet is
// bound, on id's Platform, to the user found or created. created reports
// whether the user was created by this call.
//
// Concurrent Resolves for the same openid, unionid or phone, in one process
// or many sharing a SQL store, end with one user: the store's unique links
// let one win and the others, which see the winner's links when they run the
// rules again, find that user or fail with ErrPhoneTaken. No other error
// comes of a race.
//
// An invalid id fails with [ErrInvalidIdentity] or [ErrInvalidPhone];
// errors never quote the phone.
func (l *Linker) Resolve(ctx context.Context, id Identity) (userID string, created bool, err error) {
	id, err = id.normalize()
	if err != nil {
		return "", false, err
	}
	if r, ok := l.store.(Reader); ok && id.Phone == "" {
		if uid, ok, err := known(ctx, r, id); err != nil || ok {
			return uid, false, err
		}
	}
	err = l.update(ctx, "resolve", func(ctx context.Context, tx Tx) error {
		userID, created, err = l.resolve(ctx, tx, id)
		return err
	})
	if err != nil {
		return "", false, err
	}
	return userID, created, nil
}

// known returns the user of a phone-less id whose openid is bound, and
// whose unionid (if any) is bound too: nothing to write, so no transaction.
// ok is false when the rules must run in a transaction.
func known(ctx context.Context, r Reader, id Identity) (uid string, ok bool, err error) {
	uid, err = r.UserByOpenID(ctx, id.openID())
	switch {
	case errors.Is(err, ErrNotRegistered):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("account: resolve: %w", err)
	}
	if id.UnionID != "" {
		switch _, err := r.UserByUnionID(ctx, id.unionID()); {
		case errors.Is(err, ErrNotRegistered):
			return "", false, nil
		case err != nil:
			return "", false, fmt.Errorf("account: resolve: %w", err)
		}
	}
	return uid, true, nil
}

// resolve applies the rules in one transaction.
func (l *Linker) resolve(ctx context.Context, tx Tx, id Identity) (string, bool, error) {
	uid, err := tx.UserByOpenID(ctx, id.openID())
	if err == nil { // rule 1
		return uid, false, l.bindOptional(ctx, tx, uid, id, false)
	}
	if !errors.Is(err, ErrNotRegistered) {
		return "", false, err
	}
	if id.UnionID != "" { // rule 2
		uid, err = tx.UserByUnionID(ctx, id.unionID())
		switch {
		case err == nil:
			// A unionid's user with another openid of this app cannot take
			// this one (one openid an app a user); then the phone decides.
			switch err := l.bindOpenID(ctx, tx, uid, id); {
			case err == nil:
				return uid, false, l.bindOptional(ctx, tx, uid, id, true)
			case !errors.Is(err, ErrPhoneTaken):
				return "", false, err
			}
			id.UnionID = "" // taken: not to be bound below
		case !errors.Is(err, ErrNotRegistered):
			return "", false, err
		}
	}
	if id.Phone == "" { // rule 4
		return "", false, ErrNotRegistered
	}
	uid, err = tx.UserByPhone(ctx, id.Phone) // rule 3
	switch {
	case err == nil && !id.PhoneBound && !l.unboundPhoneJoin:
		return "", false, ErrPhoneUnbound
	case err == nil:
		if err := l.bindOpenID(ctx, tx, uid, id); err != nil {
			return "", false, err
		}
		return uid, false, l.bindUnionID(ctx, tx, uid, id)
	case !errors.Is(err, ErrNotRegistered):
		return "", false, err
	}
	uid, err = l.newUser(ctx, id)
	if err != nil {
		return "", false, fmt.Errorf("account: new user: %w", err)
	}
	if err := checkUserID(uid); err != nil {
		return "", false, fmt.Errorf("account: new user returned an invalid id: %w", err)
	}
	// Taken here means a concurrent Resolve took the phone or the openid
	// since they were read: run the rules again, on its links.
	if err := tx.BindPhone(ctx, uid, id.Phone); err != nil {
		return "", false, retry(err)
	}
	if err := tx.BindOpenID(ctx, uid, id.openID()); err != nil {
		return "", false, retry(err)
	}
	return uid, true, l.bindUnionID(ctx, tx, uid, id)
}

// retry makes ErrTaken an ErrConflict: the rules must run again.
func retry(err error) error {
	if errors.Is(err, ErrTaken) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// bindOpenID binds id's openid to the existing user uid. It fails with
// ErrPhoneTaken when uid has another openid of id's app (its platform and
// appid), and with
// ErrConflict when a concurrent Resolve bound this openid or one of uid's:
// run again, the rules see it. The insert comes first and the read of the
// user's links only after it failed: a read before it would, at
// SERIALIZABLE isolation, lock the user's links and deadlock every
// concurrent login of the same user.
func (l *Linker) bindOpenID(ctx context.Context, tx Tx, uid string, id Identity) error {
	err := tx.BindOpenID(ctx, uid, id.openID())
	if !errors.Is(err, ErrTaken) {
		return err
	}
	links, lerr := tx.Links(ctx, uid)
	if lerr != nil {
		return lerr
	}
	switch links.openIDOf(id.openID()) {
	case id.OpenID, "": // bound concurrently (and maybe not visible to this transaction yet)
		return retry(err)
	}
	return ErrPhoneTaken
}

// bindOptional binds id's unionid (unless checked says it was just looked
// up) and phone to the known user uid where they are free and the user has
// no phone. A link taken meanwhile is no error: it is simply not bound.
func (l *Linker) bindOptional(ctx context.Context, tx Tx, uid string, id Identity, checked bool) error {
	if id.UnionID != "" && !checked {
		switch _, err := tx.UserByUnionID(ctx, id.unionID()); {
		case errors.Is(err, ErrNotRegistered):
			if err := l.bindUnionID(ctx, tx, uid, id); err != nil {
				return err
			}
		case err != nil:
			return err
		}
	}
	if id.Phone == "" {
		return nil
	}
	// Taken when the user has a phone or another user has this one: then
	// the phone is just not bound.
	if err := tx.BindPhone(ctx, uid, id.Phone); err != nil && !errors.Is(err, ErrTaken) {
		return err
	}
	return nil
}

// bindUnionID binds id's unionid (on id's platform) to uid when it is free.
func (l *Linker) bindUnionID(ctx context.Context, tx Tx, uid string, id Identity) error {
	if id.UnionID == "" {
		return nil
	}
	if err := tx.BindUnionID(ctx, uid, id.unionID()); err != nil && !errors.Is(err, ErrTaken) {
		return err
	}
	return nil
}

// backoff returns the pause before attempt+1: random ("full jitter") below
// 1 ms doubled for each attempt, at most 64 ms, so that transactions that
// deadlocked each other do not meet again at once.
func backoff(attempt int) time.Duration {
	ceiling := time.Millisecond << min(attempt-1, 6)
	return time.Duration(1 + rand.Int64N(int64(ceiling)))
}

// update runs fn in a transaction of the store, again when a concurrent
// transaction won, up to maxAttempts times, with a short random pause.
func (l *Linker) update(ctx context.Context, op string, fn func(context.Context, Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := l.store.Update(ctx, fn)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrNotRegistered), errors.Is(err, ErrPhoneTaken):
			return err
		case !errors.Is(err, ErrConflict) || ctx.Err() != nil:
			return fmt.Errorf("account: %s: %w", op, err)
		case attempt == maxAttempts:
			return fmt.Errorf("account: %s: lost %d races in a row: %w", op, attempt, err)
		}
		t := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("account: %s: %w", op, ctx.Err())
		case <-t.C:
		}
	}
}

// Unbind removes the links of id from the user userID: its (Platform,
// AppID, OpenID) when AppID and OpenID are set, its UnionID on its
// Platform, its Phone (normalised), each only when it is bound to that user.
// An id without a Platform is a WeChat one; an unknown platform fails with
// [ErrInvalidIdentity]. Links of other users are left alone, and so is a
// link not bound at all: Unbind of what is not there is not an error.
//
// Unbind ends no session: a token issued for the user still carries its
// subject. To log the user out everywhere, call
// [session.Manager.RevokeAll](ctx, userID) after Unbind returns (the openid
// unbound may log in again, and is then resolved afresh).
func (l *Linker) Unbind(ctx context.Context, userID string, id Identity) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	if id.Platform = id.Platform.OrWeChat(); !id.Platform.Known() {
		return fmt.Errorf("%w: unknown platform %q", ErrInvalidIdentity, clip(string(id.Platform)))
	}
	if id.Phone != "" {
		p, err := NormalizePhone(id.Phone)
		if err != nil {
			return err
		}
		id.Phone = p
	}
	return l.update(ctx, "unbind", func(ctx context.Context, tx Tx) error {
		if id.AppID != "" && id.OpenID != "" {
			if err := tx.UnbindOpenID(ctx, userID, id.openID()); err != nil {
				return err
			}
		}
		if id.UnionID != "" {
			if err := tx.UnbindUnionID(ctx, userID, id.unionID()); err != nil {
				return err
			}
		}
		if id.Phone != "" {
			return tx.UnbindPhone(ctx, userID, id.Phone)
		}
		return nil
	})
}

// Delete removes every link of the user userID, as when the user closes
// the account; the application deletes its own user. Deleting a user
// without links is not an error.
//
// Delete ends no session: call [session.Manager.RevokeAll](ctx, userID)
// after it, so that no token of the deleted user stays valid. A later login
// of the same user is then unknown (or, with the phone, creates a new
// user).
func (l *Linker) Delete(ctx context.Context, userID string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	return l.update(ctx, "delete", func(ctx context.Context, tx Tx) error {
		return tx.DeleteUser(ctx, userID)
	})
}

// Links returns the links of the user userID (none for an unknown user).
func (l *Linker) Links(ctx context.Context, userID string) (*Links, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	var links *Links
	err := l.update(ctx, "links", func(ctx context.Context, tx Tx) (err error) {
		links, err = tx.Links(ctx, userID)
		return err
	})
	return links, err
}
