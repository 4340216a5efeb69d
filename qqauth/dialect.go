package qqauth

// QQ's dialect on the shared request loop (internal/engine): the errcode /
// errmsg envelope, -1 as the code to retry, and the engine client an App
// is built on.

import (
	"context"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/engine"
)

// newEngine builds the request loop of an App from its options.
func newEngine(cfg *config, secret string) (*engine.Client, error) {
	ecfg := cfg.Config("qq", miniauth.ErrBadResponse, secret)
	ecfg.StatusError = func(op string, status int) error {
		return &StatusError{Op: op, StatusCode: status}
	}
	return engine.New(ecfg)
}

// do performs req against QQ's API (or the WithBaseURL address).
func (a *App) do(ctx context.Context, req engine.Request, out engine.Reply) error {
	req.Base = a.cfg.BaseURL
	return a.eng.Do(ctx, req, out)
}

// baseReply is the errcode and errmsg every QQ reply may carry.
type baseReply struct{ engine.ErrcodeReply }

// Err returns the [*APIError] of the reply; -1 (system busy) is retried.
func (r *baseReply) Err(op string, s engine.Scrubber) (bool, error) {
	return r.Busy(), &APIError{Op: op, Code: int(r.ErrCode), Msg: s.Clean(r.ErrMsg)}
}
