package kuaishouauth

// Kuaishou's dialect on the shared request loop (internal/engine): POST
// forms, the result / error_msg envelope (result 1 is success), and the
// engine client an App is built on.

import (
	"context"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// newEngine builds the request loop of an App from its options.
func newEngine(cfg *config, secret string) (*engine.Client, error) {
	ecfg := cfg.Config("kuaishou", miniauth.ErrBadResponse, secret)
	ecfg.StatusError = func(op string, status int) error {
		return &StatusError{Op: op, StatusCode: status}
	}
	return engine.New(ecfg)
}

// do performs req against Kuaishou's API (or the WithBaseURL address).
func (a *App) do(ctx context.Context, req engine.Request, out engine.Reply) error {
	req.Base = a.cfg.BaseURL
	return a.eng.Do(ctx, req, out)
}

// baseReply is the envelope of every Kuaishou reply: result 1 is success,
// anything else an error with error_msg. A reply without result (0) is a
// failure too: Kuaishou always sends it.
type baseReply struct {
	Result   int    `json:"result"`
	ErrorMsg string `json:"error_msg"`
}

// Failed reports a result other than 1.
func (r *baseReply) Failed() bool { return r.Result != codeOK }

// Err returns the [*APIError] of the reply. Only the access-token call
// retries 100200500: on code2session an internal error may come after the
// code was spent.
func (r *baseReply) Err(op string, s engine.Scrubber) (bool, error) {
	return op == opToken && r.Result == codeServerError,
		&APIError{Op: op, Code: r.Result, Msg: s.Clean(r.ErrorMsg)}
}
