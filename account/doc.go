// Package account binds WeChat identities and phone numbers to the
// application's own users, by the rules mini-program backends follow, on a
// store that keeps them safe under concurrent logins.
//
// The application owns its users; a [Store] owns the links: (appid, openid)
// to a user id, unionid to a user id, phone to a user id. A [Linker] applies
// the rules ([Linker.Resolve]):
//
//	openid known                          -> that user (and bind the phone if the user has none and it is free)
//	unionid known (another app's login)   -> bind this openid to that user
//	phone known, user has no openid here  -> bind this openid to that user
//	phone known, user has another openid  -> ErrPhoneTaken
//	phone unknown                         -> create a user (the app's callback) bound to openid, unionid, phone
//	no phone                              -> ErrNotFound, nothing created
//
// # Phones
//
// Phones are compared and stored in one form, "+" country code national
// number, digits only ("+8613912345678"; see [NormalizePhone]). [PhoneFrom]
// makes it from WeChat's purePhoneNumber and countryCode. Errors never quote
// a phone.
//
// # Concurrency
//
// Any number of concurrent Resolves of the same new openid, or of the same
// new phone with different openids, end with one user: the losers of a
// phone race fail with [ErrPhoneTaken], the others find the winner's user,
// and no other error comes of the race. The stores' unique links decide the
// winner ([ErrTaken], [ErrConflict]), and the Linker runs the rules again for
// the losers.
//
// # Wiring
//
// [OnLogin] is a ready hook for session.WithOnLogin:
//
//	linker := account.New(store, account.WithNewUser(createUser))
//	hook := session.WithOnLogin(account.OnLogin(linker))
//	mux.Handle("POST /login", session.LoginHandler(app, m, hook))
//	mux.Handle("POST /phone", session.PhoneHandler(app, m, hook)) // same hook, Subject pre-set
//
// The store is a dependency of every login. When it fails, OnLogin returns a
// session.UnavailableError with the store's readiness probe
// ([Linker.Ready]; package sqlstore pings within a second): the Manager then
// refuses logins and phone binds 503 before they spend their codes, logs
// the outage once, and lets them through again when the probe answers.
// Register the store with the Manager too, so that an idle server probes it
// before the first login of an outage spends its codes:
//
//	m := session.NewManager(sessions, session.WithDependency(account.StoreDependency, linker.Ready))
//
// # Banning a user
//
// A [Rule] of the application's own (a set of banned ids) refuses a user at
// login ([WithRule] on OnLogin) and on every request ([CheckRecord] for
// session.WithRecordCheck), with one answer, 403 login_refused; a ban is
// the application's write where the Rule looks, then
// session.Manager.RevokeAll. A login in flight when the ban lands gets its
// token, and the check refuses it at its first use (see [Rule]).
//
//	rule := func(ctx context.Context, userID string) error { ... session.ErrLoginRefused ... }
//	m := session.NewManager(store, session.WithRecordCheck(account.CheckRecord(rule)))
//	hook := session.WithOnLogin(account.OnLogin(linker, account.WithRule(rule)))
//
// # The new user's row
//
// The [WithNewUser] callback's context carries the login
// ([LoginFromContext]): the profile the client sent (nickname, avatar) to
// fill the new user's row, the session's app, and the request's context
// values. Decrypted profile fields are not authenticated: what the user
// says of themselves, never who they are.
//
// # Integer user ids
//
// Subjects are strings. An application whose users table has a BIGINT key
// converts in two places: its WithNewUser callback returns
// strconv.FormatInt of the id it inserted, and one getter of its own reads
// strconv.ParseInt of [session.Record.Subject] behind
// session.Manager.RequireSubject (see the example of WithNewUser).
//
// # Unbinding and closing accounts
//
// [Linker.Unbind] and [Linker.Delete] change links only; they end no
// session. Tokens issued before carry the user id as their subject and stay
// valid until they expire. To log the user out, call
// session.Manager.RevokeAll(ctx, userID) right after (RevokeAll ends every
// session of that subject, and those its openids held before they were
// bound to it, in the memory and Redis stores):
//
//	if err := linker.Delete(ctx, userID); err != nil { ... }
//	if err := m.RevokeAll(ctx, userID); err != nil { ... }
//
// # Stores
//
// [NewMemoryStore] keeps links in memory (one process; tests). Package
// sqlstore keeps them in MySQL/MariaDB, PostgreSQL or SQLite through
// database/sql, where the user row the callback creates can share the
// links' transaction. Package accounttest checks any Store.
package account
