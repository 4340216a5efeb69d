package account

import (
	"context"
	"errors"
	"net/http"

	"github.com/wxmp/miniauth/session"
)

// CodePhoneTaken (409) is the machine code with which [OnLogin] refuses a
// login whose phone is bound to another WeChat identity of this app
// ([ErrPhoneTaken]).
const CodePhoneTaken = "phone_taken"

// StoreDependency is the name under which the session Manager tracks the
// account store: the name of the [session.UnavailableError] that [OnLogin]
// returns when the store fails, and the name to register it under with
// session.WithDependency(StoreDependency, l.Ready) so that it is probed from
// the first login on.
const StoreDependency = "account store"

// OnLogin returns a hook for [session.WithOnLogin] (on [session.LoginHandler]
// and [session.PhoneHandler]) that resolves each login to the application's
// user with l: the Identity is the session's AppID, OpenID and UnionID and
// the phone of [session.LoginInfo.Phone] ([PhoneFrom]). It sets
// [session.LoginInfo.Subject] to the user id, so the token carries it, and
// adds to the response:
//
//	{"registered": true}                   a user was found, or bound
//	{"registered": true, "created": true}  a user was created for this login
//	{"registered": false}                  no user and no phone ([ErrNotFound]): the token has no subject
//
// A client that gets registered false asks for the phone (the phone-number
// button) and sends its code to the phone endpoint, whose call of the same
// hook binds or creates the user and answers with a new token that has the
// subject. The hook refuses:
//
//	409 phone_taken        the phone belongs to another WeChat identity of this app
//	503 store_unavailable  the store failed (a [session.UnavailableError]: the Manager logs the outage
//	                       once, refuses logins before they spend codes until [Linker.Ready] answers,
//	                       and answers a login whose codes were spent 503 code_spent)
//	500 server_error       the session has no AppID, or the phone WeChat gave is not a number
//
// A session whose client does not set [wxauth.Session.AppID] (wxauth.App's
// Code2Session does) cannot be resolved: every login is refused 500.
func OnLogin(l *Linker) session.OnLoginFunc {
	if l == nil {
		panic("account: OnLogin: nil Linker")
	}
	return func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		s := info.Session
		if s == nil {
			return nil, errors.New("account: login hook: no session")
		}
		id := Identity{AppID: s.AppID, OpenID: s.OpenID, UnionID: s.UnionID, Phone: PhoneFrom(info.Phone)}
		uid, created, err := l.Resolve(ctx, id)
		switch {
		case err == nil:
			info.Subject = uid
			if created {
				return map[string]any{"registered": true, "created": true}, nil
			}
			return map[string]any{"registered": true}, nil
		case errors.Is(err, ErrNotFound):
			return map[string]any{"registered": false}, nil
		case errors.Is(err, ErrPhoneTaken):
			return nil, &session.HTTPError{Status: http.StatusConflict, Code: CodePhoneTaken,
				Message: "this phone number is bound to another WeChat account of this app", Err: err}
		case errors.Is(err, ErrInvalidIdentity), errors.Is(err, ErrInvalidPhone), errors.Is(ctx.Err(), context.Canceled):
			return nil, err // 500 server_error, or 499 when the client left
		}
		// The store failed, or did not answer before the context's
		// deadline (the handler bounds the hook): the Manager guards it
		// from now on, with its readiness probe, and refuses logins before
		// they spend codes until it answers again.
		return nil, &session.UnavailableError{Dependency: StoreDependency, Ready: l.Ready, Err: err}
	}
}
