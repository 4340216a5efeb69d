package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/engine"
)

// errcodeAPIError is the typed error of a dialect on ErrcodeReply, as
// qqauth's and wecomauth's are.
type errcodeAPIError struct {
	Op   string
	Code int
	Msg  string
}

var errTestBusy = errors.New("testauth: busy")

var testSentinels = map[int]error{-1: errTestBusy, 40029: errBad}

func (e *errcodeAPIError) Error() string {
	return engine.APIErrorText("testauth", e.Op, "errcode", e.Code, e.Msg)
}

func (e *errcodeAPIError) Is(target error) bool {
	return engine.IsSentinel(testSentinels, e.Code, target)
}

// errcodeReply is a dialect's envelope on ErrcodeReply, embedded in an
// endpoint's reply as the platforms do.
type errcodeReply struct{ engine.ErrcodeReply }

func (r *errcodeReply) Err(op string, s engine.Scrubber) (bool, error) {
	return r.Busy(), &errcodeAPIError{Op: op, Code: int(r.ErrCode), Msg: s.Clean(r.ErrMsg)}
}

type errcodeUserReply struct {
	errcodeReply
	OpenID string `json:"openid"`
}

func TestErrcodeReplyDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		failed     bool
		busy       bool
		code       engine.IntCode
		msg        string
	}{
		{"success without errcode", `{"openid":"o1"}`, false, false, 0, ""},
		{"success with errcode 0", `{"errcode":0,"errmsg":"ok","openid":"o1"}`, false, false, 0, "ok"},
		{"errcode as a string", `{"errcode":"40029","errmsg":"invalid code"}`, true, false, 40029, "invalid code"},
		{"busy", `{"errcode":-1,"errmsg":"system error"}`, true, true, -1, "system error"},
		{"null errcode", `{"errcode":null,"openid":"o1"}`, false, false, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r errcodeUserReply
			require.NoError(t, engine.Decode([]byte(tc.body), &r))
			assert.Equal(t, tc.failed, r.Failed())
			assert.Equal(t, tc.busy, r.Busy())
			assert.Equal(t, tc.code, r.ErrCode)
			assert.Equal(t, tc.msg, r.ErrMsg)
		})
	}
	var r errcodeUserReply
	assert.Error(t, json.Unmarshal([]byte(`{"errcode":"forty"}`), &r), "a code that is no integer fails the decode")
}

// TestErrcodeReplyFailedAllocatesNothing: Failed runs on every reply.
func TestErrcodeReplyFailedAllocatesNothing(t *testing.T) {
	var reply engine.Reply = &errcodeUserReply{errcodeReply{engine.ErrcodeReply{ErrCode: 40029}}, ""}
	var failed bool
	allocs := testing.AllocsPerRun(1000, func() { failed = reply.Failed() })
	assert.Zero(t, allocs)
	assert.True(t, failed)
}

// TestErrcodeReplyThroughDo: an errcode reply fails the call with the
// dialect's error, scrubbed of the call's secrets before it is cut; -1 is
// retried and the others are not.
func TestErrcodeReplyThroughDo(t *testing.T) {
	t.Parallel()
	// A secret across the cut: cut first, its first bytes would survive.
	pad := strings.Repeat("x", engine.MaxMsgLen-len("bad secret ")-3)
	for _, tc := range []struct {
		name     string
		replies  []reply
		requests int
		text     string
		sentinel error
	}{
		{"refused", []reply{{200, `{"errcode":40029,"errmsg":"invalid code ` + testCode + `"}`, 0}}, 1,
			"testauth: login: errcode 40029: invalid code REDACTED", errBad},
		{"busy then success", []reply{{200, `{"errcode":-1,"errmsg":"busy"}`, 0}, {200, `{"openid":"o1"}`, 0}}, 2, "", nil},
		{"busy throughout", []reply{{200, `{"errcode":-1,"errmsg":"busy"}`, 0}}, 3,
			"testauth: login: errcode -1: busy", errTestBusy},
		{"secret at the cut", []reply{{200, `{"errcode":40001,"errmsg":"bad secret ` + pad + testSecret + `"}`, 0}}, 1,
			"testauth: login: errcode 40001: bad secret " + pad + "RED", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tc.replies...)
			c, logs := newClient(t, engine.Config{Retries: 2})
			var r errcodeUserReply
			err := c.Do(context.Background(), engine.Request{Op: "login", Method: http.MethodGet, Base: srv.URL, Secrets: []string{testCode}}, &r)
			assert.Equal(t, tc.requests, srv.count())
			if tc.text == "" {
				require.NoError(t, err)
				assert.Equal(t, "o1", r.OpenID)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.text, err.Error())
			var ae *errcodeAPIError
			require.ErrorAs(t, err, &ae)
			assert.LessOrEqual(t, len(ae.Msg), engine.MaxMsgLen)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			assert.NotContains(t, err.Error(), "x"+testSecret[:3])
			for _, secret := range []string{testSecret, testCode} {
				assert.NotContains(t, err.Error(), secret)
				assert.NotContains(t, logs.String(), secret)
			}
		})
	}
}

func TestCleanMsg(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "invalid code", "invalid code"},
		{"empty", "", ""},
		{"control characters", "a\nb\r\x1b[31mc\x00", "a\uFFFDb\uFFFD\uFFFD[31mc\uFFFD"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"non-ASCII kept", "登录码无效", "登录码无效"},
		{"cut to the limit", strings.Repeat("a", engine.MaxMsgLen+10), strings.Repeat("a", engine.MaxMsgLen)},
		{"cut on a character boundary", strings.Repeat("a", engine.MaxMsgLen-1) + "码", strings.Repeat("a", engine.MaxMsgLen-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := engine.CleanMsg(tc.in)
			assert.Equal(t, tc.want, got)
			assert.True(t, utf8.ValidString(got))
			assert.LessOrEqual(t, len(got), engine.MaxMsgLen)
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pkg, op, codeName string
		code                    int
		msg, want               string
	}{
		{"all parts", "qqauth", "code2session", "errcode", 40029, "invalid code", "qqauth: code2session: errcode 40029: invalid code"},
		{"no op", "wecomauth", "", "errcode", 40014, "invalid access_token", "wecomauth: errcode 40014: invalid access_token"},
		{"no msg", "kuaishouauth", "access_token", "result", 100200101, "", "kuaishouauth: access_token: result 100200101"},
		{"negative code", "qqauth", "getToken", "errcode", -1, "system error", "qqauth: getToken: errcode -1: system error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, engine.APIErrorText(tc.pkg, tc.op, tc.codeName, tc.code, tc.msg))
		})
	}
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "qqauth: code2session: http status 502", engine.StatusText("qqauth", "code2session", 502))
	err := &engine.StatusError{Package: "douyinauth", Op: "code2session", StatusCode: 404, Sentinel: errBad}
	assert.Equal(t, "douyinauth: code2session: http status 404", err.Error())
}

func TestIsSentinel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		code   int
		target error
		want   bool
	}{
		{"its sentinel", 40029, errBad, true},
		{"another sentinel", 40029, errTestBusy, false},
		{"a code without one", 40013, errBad, false},
		{"nil target", 12345, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, engine.IsSentinel(testSentinels, tc.code, tc.target))
		})
	}
}

// FuzzCleanMsg: whatever a reply sends, CleanMsg returns valid UTF-8
// without control characters within MaxMsgLen bytes, and keeps clean text
// as it is.
func FuzzCleanMsg(f *testing.F) {
	for _, s := range []string{"invalid code", "a\nb\x1b[0m", "a\xffb", "登录码无效", strings.Repeat("码", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := engine.CleanMsg(s)
		if !utf8.ValidString(got) || len(got) > engine.MaxMsgLen {
			t.Fatalf("CleanMsg(%q) = %q: invalid or too long", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("CleanMsg(%q) = %q keeps a control character", s, got)
			}
		}
		if engine.CleanMsg(got) != got {
			t.Fatalf("CleanMsg is not idempotent on %q", got)
		}
		if len(s) <= engine.MaxMsgLen && utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 && got != s {
			t.Fatalf("CleanMsg(%q) = %q changed clean text", s, got)
		}
	})
}
