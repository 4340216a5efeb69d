package session

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

type ctxKey struct{}

// NewContext returns a copy of ctx that carries rec, as [Manager.Middleware]
// does; [FromContext] finds it. It lets tests call handlers that sit behind
// the middleware.
func NewContext(ctx context.Context, rec *Record) context.Context {
	return context.WithValue(ctx, ctxKey{}, rec)
}

// FromContext returns the record [Manager.Middleware] put into a request's
// context, and whether there was one.
func FromContext(ctx context.Context) (*Record, bool) {
	rec, ok := ctx.Value(ctxKey{}).(*Record)
	return rec, ok && rec != nil
}

// Middleware returns a handler that lets a request through to next only
// with a valid token, and puts the token's [Record] into the request's
// context ([FromContext]).
//
// The token comes from "Authorization: Bearer <token>", or from the header
// or cookie named by [WithTokenHeader] or [WithTokenCookie]. A request
// without a valid token gets 401 {"error": "invalid_token"} or
// {"error": "expired_token"} (with a WWW-Authenticate header when the token
// is a bearer token); when the store is down it gets 503
// {"error": "store_unavailable"}, so that the client keeps its token and
// retries. In cookie mode ([WithTokenCookie]) a request with an unsafe
// method that a browser sent from another origin is refused first: 403
// cross_origin_request. [WithErrorHandler] changes how these are written.
// The token is never logged.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.err != nil || next == nil {
			err := m.err
			if err == nil {
				err = errors.New("session: middleware: nil next handler")
			}
			m.refuse(w, r, "middleware", serverError(err))
			return
		}
		rec, e := m.Authenticate(r)
		if e != nil {
			m.refuseToken(w, r, "middleware", e)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), rec)))
	})
}

// refuseToken answers a request whose token was refused, as the middleware
// does: with a WWW-Authenticate challenge on a 401 when the token is a
// bearer token.
func (m *Manager) refuseToken(w http.ResponseWriter, r *http.Request, op string, e *HTTPError) {
	if e.Status == http.StatusUnauthorized && m.cfg.token.kind == fromBearer {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	m.refuse(w, r, op, e)
}

// Authenticate decides what [Manager.Middleware] decides for r, without
// answering it: the [Record] of the request's token (read from the header
// or cookie the Manager is configured for), or the [*HTTPError] the
// middleware would answer: 401 invalid_token or expired_token, 503
// store_unavailable, 499 canceled, 500 server_error, and in cookie mode 403
// cross_origin_request (see [WithTokenCookie]). Framework adapters call it
// and write the error in their own way ([WriteError] writes it as the
// middleware does, less the WWW-Authenticate header of a 401). It logs
// nothing.
func (m *Manager) Authenticate(r *http.Request) (*Record, *HTTPError) {
	if m.err != nil {
		return nil, serverError(m.unusable())
	}
	if e := m.checkOrigin(r); e != nil {
		return nil, e
	}
	rec, err := m.Validate(r.Context(), m.cfg.token.token(r))
	if err != nil {
		return nil, m.tokenError(err)
	}
	return rec, nil
}

// RevokeRequest revokes the token the request carries (from the header or
// cookie the Manager reads, as [Manager.Authenticate] does): a logout. A
// request without a token, or with a malformed one, is [ErrInvalidToken];
// revoking an unknown or already revoked token is not an error. It does not
// check the request's origin: in cookie mode, call it after
// [Manager.Authenticate] has accepted the request, or use [LogoutHandler].
func (m *Manager) RevokeRequest(r *http.Request) error {
	if m.err != nil {
		return m.unusable()
	}
	tok := m.cfg.token.token(r)
	if tok == "" {
		return ErrInvalidToken
	}
	return m.Revoke(r.Context(), tok)
}

// tokenError maps an error of [Manager.Validate] to its answer.
func (m *Manager) tokenError(err error) *HTTPError {
	switch {
	case errors.Is(err, ErrExpired):
		return &HTTPError{Status: http.StatusUnauthorized, Code: CodeExpiredToken,
			Message: "the login has expired: log in again", Err: err}
	case errors.Is(err, ErrInvalidToken):
		return &HTTPError{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
			Message: "a valid login token is required", Err: err}
	case errors.Is(err, ErrLoginRefused): // WithRecordCheck refused the user
		return &HTTPError{Status: http.StatusForbidden, Code: CodeLoginRefused,
			Message: "login refused", Err: err}
	case errors.Is(err, context.Canceled):
		return canceled(err)
	case errors.Is(err, ErrRecordCheck): // the application could not check the user
		return &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
			Message: "the user cannot be checked right now: try again later", Err: err}
	case errors.Is(err, ErrDependencyUnavailable):
		return &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
			Message: "the service cannot log you in right now: try again later", Err: err}
	case errors.Is(err, ErrStoreUnavailable):
		return &HTTPError{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
			Message: "sessions are unavailable: try again later", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		// The request's own deadline (a store timeout wraps
		// ErrStoreUnavailable, above): as WeChatError answers it.
		return canceled(err)
	default:
		return serverError(err)
	}
}

func serverError(err error) *HTTPError {
	return &HTTPError{Status: http.StatusInternalServerError, Code: CodeServerError,
		Message: "internal server error", Err: err}
}

func canceled(err error) *HTTPError {
	return &HTTPError{Status: StatusClientClosedRequest, Code: CodeCanceled,
		Message: "request canceled", Err: err}
}

// refuse logs a refused request at the level its status deserves and answers
// it through the error handler.
func (m *Manager) refuse(w http.ResponseWriter, r *http.Request, op string, e *HTTPError) {
	level := slog.LevelDebug
	switch {
	case e.Status == StatusClientClosedRequest:
	case e.Code == CodeStoreUnavailable, e.Code == CodeCodeSpent: // the Manager logs the outage once (health.go, guard.go)
	case e.Code == CodeServiceBusy: // logged once a burst (burst.go)
	case e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout:
		level = slog.LevelWarn
	case e.Status >= 500:
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("op", op), slog.Int("status", e.Status), slog.String("code", e.Code)}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	m.cfg.logger.LogAttrs(r.Context(), level, "session: request refused", attrs...)
	if op == "login" || op == "phone" {
		m.observeLogin(r.Context(), op, "", e)
	}
	m.cfg.errorHandler(w, r, e)
}
