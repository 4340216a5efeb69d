package session

// Owner returns whom the session belongs to for [Manager.RevokeAll] and for
// the bound on sessions per user ([DefaultMaxPerSubject]): its Subject, or
// its OpenID when it has no Subject (an openid the application has not
// bound to a user yet).
//
// Subjects and openids share one name space: an application whose user ids
// could equal another user's openid should not pass such an id to
// RevokeAll. Applications that use the openid itself as their user id get
// what they expect: the bound and unbound sessions of that openid are one
// owner's.
func (r Record) Owner() string {
	if r.Subject != "" {
		return r.Subject
	}
	return r.OpenID
}
