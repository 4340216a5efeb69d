package session

import (
	"errors"
	"net/http"
	"slices"
)

// CodeWrongApp (403) is the machine code [Manager.RequireApp] answers with
// when the request's token was issued for another app than the route
// serves.
const CodeWrongApp = "wrong_app"

// RequireApp returns a handler, to sit behind [Manager.Middleware], that
// calls next only for a token issued for one of appIDs ([Record.AppID]): on
// a server of several apps (a SaaS with an app per tenant), a token of one
// app must not open the API of another by accident. Any other token is
// answered 403 {"error": "wrong_app"}. A record without an appid (issued by
// hand without one) matches no appid.
//
// Without appIDs, or with a request that has no record in its context (the
// handler is not behind the middleware), every request is answered 500: a
// misconfiguration.
func (m *Manager) RequireApp(next http.Handler, appIDs ...string) http.Handler {
	ids := slices.Clone(appIDs)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const op = "require app"
		rec, ok := FromContext(r.Context())
		switch {
		case m.err != nil:
			m.refuse(w, r, op, serverError(m.err))
		case next == nil || len(ids) == 0:
			m.refuse(w, r, op, serverError(errors.New("session: RequireApp: nil next handler or no appid")))
		case !ok:
			m.refuse(w, r, op, serverError(errors.New("session: RequireApp must sit behind Manager.Middleware")))
		case rec.AppID == "" || !slices.Contains(ids, rec.AppID):
			m.refuse(w, r, op, &HTTPError{Status: http.StatusForbidden, Code: CodeWrongApp,
				Message: "this token was issued for another app"})
		default:
			next.ServeHTTP(w, r)
		}
	})
}
