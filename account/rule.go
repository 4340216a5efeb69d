package account

import (
	"context"

	"github.com/wxmp/miniauth/session"
)

// A Rule is the application's own decision whether its user userID may log
// in and go on using the app: nil lets them; an error that matches
// [session.ErrLoginRefused] refuses them (a banned, suspended or deleted
// user: 403 login_refused); any other error means the rule could not decide
// (its database is down: 503, and the client keeps its token). It must be
// safe for concurrent use.
//
// One Rule serves both places a ban must hold: [WithRule] at login, and
// [CheckRecord] (for [session.WithRecordCheck]) on every request, so that a
// token issued by a login that passed the rule just before the ban is
// refused at its first use. Ban a user in one call of the application's own
// that records the ban where the Rule looks, then ends their sessions:
//
//	func ban(ctx context.Context, userID string) error {
//		if err := rdb.SAdd(ctx, "banned", userID).Err(); err != nil { // what the Rule reads
//			return err
//		}
//		return sessions.RevokeAll(ctx, userID) // frees the store; the check refuses them anyway
//	}
//
// The check runs on every request: a Rule that reads a Redis set (SISMEMBER)
// or an in-process copy refreshed every few seconds costs no database round
// trip a request.
type Rule func(ctx context.Context, userID string) error

// A HookOption configures the hook [OnLogin] returns.
type HookOption func(*hook)

// hook is the configuration of an OnLogin hook.
type hook struct {
	rule Rule
}

// WithRule makes [OnLogin] ask rule about the user each login resolves to,
// before the token is issued: a login of a refused user is answered 403
// login_refused, and an error of the rule that is not a refusal is an
// outage of a dependency ([RuleDependency]), answered and guarded as the
// hook's store failures are (503). A login
// that resolves to no user ({"registered": false}) has no one to ask. Pair
// it with [CheckRecord] on the Manager (see [Rule]). A nil rule panics.
func WithRule(rule Rule) HookOption {
	if rule == nil {
		panic("account: WithRule: nil rule")
	}
	return func(h *hook) { h.rule = rule }
}

// CheckRecord returns a check for [session.WithRecordCheck] that asks rule
// about the subject of each request's session, so that a refused user's
// tokens are refused 403 login_refused from the moment the rule refuses
// them, including a token issued to a login in flight. A session without a
// subject (an openid not bound to a user) passes: it has no user to refuse.
// A nil rule panics.
func CheckRecord(rule Rule) func(ctx context.Context, rec *session.Record) error {
	if rule == nil {
		panic("account: CheckRecord: nil rule")
	}
	return func(ctx context.Context, rec *session.Record) error {
		if rec.Subject == "" {
			return nil
		}
		return rule(ctx, rec.Subject)
	}
}

type loginKey struct{}

// LoginFromContext returns the login that an [OnLogin] hook is resolving,
// from the context it hands [Linker.Resolve] and so to the [WithNewUser]
// callback (through the store's transaction): the [session.LoginInfo] with
// the session (its AppID; a platform's, where the session says), the
// profile the client sent (RawData, whose signature was checked, and
// UserInfo, decrypted), and the phone. The context also carries the
// request's own values (a request id, a tenant).
//
// Decrypted profile fields (UserInfo: nickname, avatar, gender) are NOT
// authenticated: AES-CBC has no integrity and the client picks the iv, so a
// client can change what they say. Use them to fill a new user's row as
// what the user says of themselves, never to decide who they are or what
// they may do. RawData's signature is checked.
func LoginFromContext(ctx context.Context) (*session.LoginInfo, bool) {
	info, ok := ctx.Value(loginKey{}).(*session.LoginInfo)
	return info, ok && info != nil
}
