package redact_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wxmp/miniauth/internal/redact"
)

func TestURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://api.weixin.qq.com/sns/jscode2session?appid=wx1&secret=s3cr3t&js_code=c0de&grant_type=authorization_code",
			"https://api.weixin.qq.com/sns/jscode2session?appid=wx1&grant_type=authorization_code&js_code=REDACTED&secret=REDACTED"},
		{"https://api.weixin.qq.com/wxa/checksession?access_token=tok&openid=o1&signature=abc&sig_method=hmac_sha256",
			"https://api.weixin.qq.com/wxa/checksession?access_token=REDACTED&openid=o1&sig_method=hmac_sha256&signature=REDACTED"},
		{"https://user:pass@example.com/x#frag", "https://example.com/x"},
		{"https://example.com/x?secret=a&secret=b", "https://example.com/x?secret=REDACTED"},
		{"https://openapi.baidu.com/oauth/2.0/token?client_id=k&client_secret=s&sk=s2",
			"https://openapi.baidu.com/oauth/2.0/token?client_id=k&client_secret=REDACTED&sk=REDACTED"},
		{"https://api.weixin.qq.com/sns/component/jscode2session?appid=wx1&component_access_token=t",
			"https://api.weixin.qq.com/sns/component/jscode2session?appid=wx1&component_access_token=REDACTED"},
		{"https://example.com/x?%zz=1&secret=a", "https://example.com/x?REDACTED"},
		{"http://[::1:bad", "REDACTED"},
		{"https://example.com/plain", "https://example.com/plain"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.URL(tt.in), tt.in)
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	secret := "0123456789abcdef+/=="
	in := "Get https://x/?secret=" + url.QueryEscape(secret) + " failed; secret " + secret
	out := redact.Strings(in, secret, "", "short")
	assert.NotContains(t, out, secret)
	assert.NotContains(t, out, url.QueryEscape(secret))
	assert.Equal(t, "Get https://x/?secret=REDACTED failed; secret REDACTED", out)
	assert.Equal(t, "a short word", redact.Strings("a short word", "short"), "secrets under MinSecretLen are left alone")
}

func FuzzURL(f *testing.F) {
	f.Add("https://api.weixin.qq.com/sns/jscode2session?appid=wx1&secret=s3cr3tvalue&js_code=c0de")
	f.Add("http://u:p@h/?access_token=t0kenvalue#x")
	f.Add("%")
	f.Fuzz(func(t *testing.T, raw string) {
		out := redact.URL(raw)
		u, err := url.Parse(raw)
		if err != nil {
			assert.Equal(t, redact.Placeholder, out)
			return
		}
		if _, err := url.ParseQuery(u.RawQuery); err != nil {
			return
		}
		// Every credential parameter left in the output says REDACTED.
		ou, err := url.Parse(out)
		if err != nil {
			return
		}
		oq, err := url.ParseQuery(ou.RawQuery)
		if err != nil {
			return
		}
		for _, k := range []string{"secret", "js_code", "code", "access_token", "signature"} {
			if vs, ok := oq[k]; ok {
				assert.Equal(t, []string{redact.Placeholder}, vs, "parameter %s of %q", k, raw)
			}
		}
		// Userinfo is dropped from a URL with a host (what a *url.Error
		// carries). Without one, a path such as "//0@" re-parses as an
		// authority: that text came from the path, not from credentials.
		if u.Host != "" {
			assert.Nil(t, ou.User, "userinfo kept in %q", out)
		}
	})
}
