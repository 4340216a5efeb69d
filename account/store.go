package account

import "context"

// Store keeps the links between WeChat identities, phones and the
// application's user ids: the store owns the links, the application owns its
// users. [NewMemoryStore] and package sqlstore implement it; package
// accounttest checks any implementation.
//
// A Store must be safe for concurrent use.
type Store interface {
	// Update runs fn in one transaction and commits it when fn returns nil.
	// When fn returns an error, nothing fn wrote is kept and Update returns
	// that error (errors.Is must match it). When the transaction cannot
	// commit because a concurrent one won (a deadlock, a serialization
	// failure), nothing is kept and the error matches [ErrConflict]. The ctx
	// that fn gets (and passes on, such as to the [WithNewUser] callback)
	// may carry the store's transaction: package sqlstore's TxFromContext
	// reads it. fn may be called again by the caller, never by Update.
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Reader is what a [Store] may also implement to answer the commonest
// login, a known openid with nothing new to bind, without a transaction:
// [Linker.Resolve] reads with it first and opens a transaction only when
// there is something to bind or create. Its lookups behave as those of
// [Tx], on committed links. Package sqlstore's Store implements it.
type Reader interface {
	UserByOpenID(ctx context.Context, appID, openID string) (userID string, err error)
	UserByUnionID(ctx context.Context, unionID string) (userID string, err error)
}

// ReadyStore is what a [Store] that talks to a server may also implement: a
// readiness probe that reports, within a short bound of its own, whether
// the store can serve now (nil) or not. [Linker.Ready] calls it, and
// [OnLogin] hands it to the session Manager when the store fails, so that
// logins are refused before they spend their codes until the store is back.
// Package sqlstore's Store implements it with a ping.
type ReadyStore interface {
	Store
	Ready(ctx context.Context) error
}

// Tx reads and writes links inside a [Store.Update]. Lookups that find
// nothing return [ErrNotFound]. Binds that a unique link refuses return
// [ErrTaken], change nothing, and leave the transaction usable. An error
// that ends the transaction because a concurrent one won matches
// [ErrConflict]. Reads see what the transaction wrote.
type Tx interface {
	// UserByOpenID returns the user bound to (appID, openID).
	UserByOpenID(ctx context.Context, appID, openID string) (userID string, err error)
	// UserByUnionID returns the user bound to unionID.
	UserByUnionID(ctx context.Context, unionID string) (userID string, err error)
	// UserByPhone returns the user bound to the (normalised) phone.
	UserByPhone(ctx context.Context, phone string) (userID string, err error)
	// Links returns every link of userID; an unknown user has none (no
	// error).
	Links(ctx context.Context, userID string) (*Links, error)

	// BindOpenID binds (appID, openID) to userID; ErrTaken when that
	// openid is bound (to anyone) or userID has an openid of appID.
	BindOpenID(ctx context.Context, userID, appID, openID string) error
	// BindUnionID binds unionID to userID; ErrTaken when it is bound. A
	// user may have several unionids.
	BindUnionID(ctx context.Context, userID, unionID string) error
	// BindPhone binds phone to userID; ErrTaken when the phone is bound
	// (to anyone) or userID has a phone.
	BindPhone(ctx context.Context, userID, phone string) error

	// UnbindOpenID removes the link of (appID, openID) when it is bound to
	// userID; otherwise it does nothing (no error). So do the other Unbinds.
	UnbindOpenID(ctx context.Context, userID, appID, openID string) error
	// UnbindUnionID removes the link of unionID when bound to userID.
	UnbindUnionID(ctx context.Context, userID, unionID string) error
	// UnbindPhone removes the link of phone when bound to userID.
	UnbindPhone(ctx context.Context, userID, phone string) error
	// DeleteUser removes every link of userID.
	DeleteUser(ctx context.Context, userID string) error
}

// Links are the links a store keeps for one user.
type Links struct {
	// Phone is the user's normalised phone, or "".
	Phone string
	// OpenIDs are the user's WeChat identities, at most one an app, sorted
	// by AppID.
	OpenIDs []OpenID
	// UnionIDs are the user's unionids, sorted.
	UnionIDs []string
}

// OpenID is an openid and the app it belongs to.
type OpenID struct {
	AppID, OpenID string
}

// openIDOf returns the user's openid in appID, or "".
func (l *Links) openIDOf(appID string) string {
	for _, o := range l.OpenIDs {
		if o.AppID == appID {
			return o.OpenID
		}
	}
	return ""
}
