package account

import (
	"context"
	"strings"

	"github.com/wxmp/miniauth"
)

// Store keeps the links between platform identities, phones and the
// application's user ids: the store owns the links, the application owns its
// users. [NewMemoryStore] and package sqlstore implement it; package
// accounttest checks any implementation.
//
// Every link of an openid or a unionid is keyed by its platform too ([OpenID],
// [UnionID]): the same unionid on two platforms is two links, of two people
// or of one. A [Linker] always passes a known, non-empty platform
// ([miniauth.WeChat] for an [Identity] without one).
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
	UserByOpenID(ctx context.Context, o OpenID) (userID string, err error)
	UserByUnionID(ctx context.Context, u UnionID) (userID string, err error)
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
// nothing return [ErrNotRegistered]. Binds that a unique link refuses return
// [ErrTaken], change nothing, and leave the transaction usable. An error
// that ends the transaction because a concurrent one won matches
// [ErrConflict]. Reads see what the transaction wrote.
type Tx interface {
	// UserByOpenID returns the user bound to the openid o (its platform,
	// appid and openid).
	UserByOpenID(ctx context.Context, o OpenID) (userID string, err error)
	// UserByUnionID returns the user bound to the unionid u on its
	// platform.
	UserByUnionID(ctx context.Context, u UnionID) (userID string, err error)
	// UserByPhone returns the user bound to the (normalised) phone.
	UserByPhone(ctx context.Context, phone string) (userID string, err error)
	// Links returns every link of userID; an unknown user has none (no
	// error).
	Links(ctx context.Context, userID string) (*Links, error)

	// BindOpenID binds o to userID; ErrTaken when o is bound (to anyone)
	// or userID has an openid of o's app (the same platform and appid).
	BindOpenID(ctx context.Context, userID string, o OpenID) error
	// BindUnionID binds u to userID; ErrTaken when u is bound. A user may
	// have several unionids (of several platforms, or of several Open
	// Platform accounts of one).
	BindUnionID(ctx context.Context, userID string, u UnionID) error
	// BindPhone binds phone to userID; ErrTaken when the phone is bound
	// (to anyone) or userID has a phone.
	BindPhone(ctx context.Context, userID, phone string) error

	// UnbindOpenID removes the link of o when it is bound to userID;
	// otherwise it does nothing (no error). So do the other Unbinds.
	UnbindOpenID(ctx context.Context, userID string, o OpenID) error
	// UnbindUnionID removes the link of u when bound to userID.
	UnbindUnionID(ctx context.Context, userID string, u UnionID) error
	// UnbindPhone removes the link of phone when bound to userID.
	UnbindPhone(ctx context.Context, userID, phone string) error
	// DeleteUser removes every link of userID.
	DeleteUser(ctx context.Context, userID string) error
}

// Links are the links a store keeps for one user.
type Links struct {
	// Phone is the user's normalised phone, or "".
	Phone string
	// OpenIDs are the user's platform identities, at most one an app (a
	// platform and an appid), sorted by Platform, then AppID ([OpenID.Compare]).
	OpenIDs []OpenID
	// UnionIDs are the user's unionids, each with its platform, sorted by
	// Platform, then UnionID ([UnionID.Compare]).
	UnionIDs []UnionID
}

// OpenID is an openid and the app it belongs to: the app's platform and
// appid. It is the key of an openid's link.
type OpenID struct {
	// Platform is the app's platform; a store gets it non-empty.
	Platform miniauth.Platform
	// AppID is the app's appid.
	AppID string
	// OpenID is the user's openid in the app.
	OpenID string
}

// Compare orders openids by Platform, then AppID, then OpenID, as
// [Links.OpenIDs] is sorted; it returns -1, 0 or +1.
func (o OpenID) Compare(p OpenID) int {
	if c := strings.Compare(string(o.Platform), string(p.Platform)); c != 0 {
		return c
	}
	if c := strings.Compare(o.AppID, p.AppID); c != 0 {
		return c
	}
	return strings.Compare(o.OpenID, p.OpenID)
}

// UnionID is a unionid and the platform it belongs to. It is the key of a
// unionid's link.
type UnionID struct {
	// Platform is the unionid's platform; a store gets it non-empty.
	Platform miniauth.Platform
	// UnionID is the user's unionid on that platform.
	UnionID string
}

// Compare orders unionids by Platform, then UnionID, as [Links.UnionIDs] is
// sorted; it returns -1, 0 or +1.
func (u UnionID) Compare(v UnionID) int {
	if c := strings.Compare(string(u.Platform), string(v.Platform)); c != 0 {
		return c
	}
	return strings.Compare(u.UnionID, v.UnionID)
}

// openIDOf returns the user's openid in the app of o (its platform and
// appid), or "".
func (l *Links) openIDOf(o OpenID) string {
	for _, x := range l.OpenIDs {
		if x.Platform == o.Platform && x.AppID == o.AppID {
			return x.OpenID
		}
	}
	return ""
}
