package qqauth

// QQ's dialect on the shared request loop (internal/engine): the errcode /
// errmsg envelope, -1 as the code to retry, and the engine client an App
// is built on.

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

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
type baseReply struct {
	ErrCode errCode `json:"errcode"`
	ErrMsg  string  `json:"errmsg"`
}

// Failed reports a non-zero errcode.
func (r *baseReply) Failed() bool { return r.ErrCode != 0 }

// Err returns the [*APIError] of the reply; -1 (system busy) is retried.
func (r *baseReply) Err(op string, s engine.Scrubber) (bool, error) {
	return r.ErrCode == -1, newAPIError(op, int(r.ErrCode), s.Scrub(r.ErrMsg))
}

// errCode decodes an errcode sent as a JSON number or a numeric string.
type errCode int

func (c *errCode) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*c = 0
			return nil
		}
		b = []byte(s)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return errors.New("errcode is not an integer")
	}
	*c = errCode(n)
	return nil
}
