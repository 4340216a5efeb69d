package account

import (
	"context"
	"errors"
	"net/http"

	"github.com/wxmp/miniauth/session"
)

// CodePhoneTaken (409) is the machine code with which [OnLogin] refuses a
// login whose phone is bound to another openid of this app (the same
// platform and appid: [ErrPhoneTaken]).
const CodePhoneTaken = "phone_taken"

// StoreDependency is the name under which the session Manager tracks the
// account store: the name of the [session.UnavailableError] that [OnLogin]
// returns when the store fails, and the name to register it under with
// session.WithDependency(StoreDependency, l.Ready) so that it is probed from
// the first login on.
const StoreDependency = "account store"

// OnLogin returns a hook for [session.WithOnLogin] (on [session.LoginHandler]
// and [session.PhoneHandler]) that resolves each login to the application's
// user with l: the Identity is the session's Platform, AppID, OpenID and
// UnionID ([miniauth.Session]; a session without a Platform is a WeChat
// one) and the phone of [session.LoginInfo.Phone] ([PhoneFrom]). So one
// hook serves the apps of every platform behind one handler: a phone joins
// a person's identities across them, and unionids stay per platform. It sets
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
//	409 phone_taken        the phone belongs to another openid of this app (platform and appid), or to
//	                       another user while the platform did not tie it to this openid (see [Identity.PhoneBound])
//	503 store_unavailable  the store failed (a [session.UnavailableError]: the Manager logs the outage
//	                       once, refuses logins before they spend codes until [Linker.Ready] answers,
//	                       and answers a login whose codes were spent 503 code_spent)
//	500 server_error       the session has no AppID or an unknown Platform, or the phone the platform gave is not a number
//
// With [WithRule], the user a login resolves to is asked about too:
//
//	403 login_refused      the rule refused the user (a ban)
//	503 store_unavailable  the rule could not decide (a [session.UnavailableError] of [RuleDependency],
//	                       guarded as the store is; 503 code_spent once the codes are spent)
//
// The context the hook hands [Linker.Resolve], and so the [WithNewUser]
// callback, carries the login ([LoginFromContext]): its profile, to fill
// the new user's row.
//
// A session whose client does not set [miniauth.Session.AppID] (every
// platform client of this module does) cannot be resolved: every login is
// refused 500. A nil Linker or option panics.
func OnLogin(l *Linker, opts ...HookOption) session.OnLoginFunc {
	if l == nil {
		panic("account: OnLogin: nil Linker")
	}
	var h hook
	for _, o := range opts {
		if o == nil {
			panic("account: OnLogin: nil option")
		}
		o(&h)
	}
	return func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		s := info.Session
		if s == nil {
			return nil, errors.New("account: login hook: no session")
		}
		id := Identity{Platform: s.Platform, AppID: s.AppID, OpenID: s.OpenID, UnionID: s.UnionID, Phone: PhoneFrom(info.Phone),
			PhoneBound: info.Phone != nil && info.Phone.OpenID != "" && info.Phone.OpenID == s.OpenID}
		uid, created, err := l.Resolve(context.WithValue(ctx, loginKey{}, info), id)
		if err == nil && h.rule != nil {
			if err := h.rule(ctx, uid); err != nil {
				return nil, ruleError(ctx, err)
			}
		}
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
				Message: "this phone number is bound to another account of this app", Err: err}
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

// RuleDependency is the name under which the session Manager tracks the
// [Rule] of [WithRule]: the name of the [session.UnavailableError] that
// [OnLogin] returns when the rule cannot decide.
const RuleDependency = "account rule"

// ruleError maps an error of a [Rule] at login as the hook maps its own: a
// refusal as it is (403 login_refused), a client gone as it is (499), and
// any other failure as an outage of a dependency, which the Manager guards
// (503 store_unavailable before codes are spent, or code_spent after).
func ruleError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, session.ErrLoginRefused):
		return err
	case errors.Is(ctx.Err(), context.Canceled):
		return err
	}
	return &session.UnavailableError{Dependency: RuleDependency, Err: err}
}
