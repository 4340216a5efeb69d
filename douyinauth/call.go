package douyinauth

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/wxmp/miniauth/internal/engine"
)

// This file is the package's dialect on internal/engine: Douyin's three
// error envelopes as engine replies. The request loop (timeouts, retries,
// the body limit, redaction) is the engine's.

// request is one call to a Douyin API: every one is a POST of JSON.
type request struct {
	op      string // API name for errors and logs, e.g. "jscode2session"
	base    string // the host: a.cfg.BaseURL or a.cfg.openURL
	path    string
	body    any               // the JSON body
	header  map[string]string // open.douyin.com's access-token
	secrets []string          // this call's secrets (codes, the token)
}

// do performs req through the engine and decodes the reply into out. It
// returns an *APIError for a reply that says it failed.
func (a *App) do(ctx context.Context, req request, out engine.Reply) error {
	return a.eng.Do(ctx, engine.Request{
		Op:      req.op,
		Method:  "POST",
		Base:    req.base,
		Path:    req.path,
		JSON:    req.body,
		Header:  req.header,
		Secrets: req.secrets,
	}, out)
}

// errNo decodes an error code sent as a JSON number or a numeric string.
type errNo int64

func (c *errNo) UnmarshalJSON(b []byte) error {
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
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return errors.New("error code is not an integer")
	}
	*c = errNo(n)
	return nil
}

// apiError returns the engine's answer for a failed reply: the APIError of
// code on op, its texts scrubbed of the call's secrets and made printable,
// and whether op's code says "busy, try again".
func apiError(op string, code int64, msg, logID string, s engine.Scrubber) (bool, error) {
	return retryable(op, code), &APIError{
		Op:    op,
		Code:  code,
		Msg:   s.Clean(msg),
		LogID: s.Clean(logID),
	}
}

// tipsReply is developer.toutiao.com's api/apps/v2 envelope:
// {err_no, err_tips, log_id?, data}.
type tipsReply struct {
	ErrNo   errNo  `json:"err_no"`
	ErrTips string `json:"err_tips"`
	LogID   string `json:"log_id"`
}

// Failed reports a non-zero err_no.
func (r *tipsReply) Failed() bool { return r.ErrNo != 0 }

// Err returns the reply's *APIError.
func (r *tipsReply) Err(op string, s engine.Scrubber) (bool, error) {
	return apiError(op, int64(r.ErrNo), r.ErrTips, r.LogID, s)
}

// msgReply is open.douyin.com's api/apps/v1 envelope: {err_no, err_msg,
// log_id, data}.
type msgReply struct {
	ErrNo  errNo  `json:"err_no"`
	ErrMsg string `json:"err_msg"`
	LogID  string `json:"log_id"`
}

// Failed reports a non-zero err_no.
func (r *msgReply) Failed() bool { return r.ErrNo != 0 }

// Err returns the reply's *APIError.
func (r *msgReply) Err(op string, s engine.Scrubber) (bool, error) {
	return apiError(op, int64(r.ErrNo), r.ErrMsg, r.LogID, s)
}
