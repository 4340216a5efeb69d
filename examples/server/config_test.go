package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/alipayauth/alipayauthtest"
)

// Secrets of the config tests: none may appear in an error or the output.
const (
	wxSecretValue = "wx-secret-value-0123456789"
	ttSecretValue = "tt-secret-value-0123456789"
)

// twoApps is a config of a WeChat and a Douyin app whose secrets are in the
// environment.
const twoApps = `[
  {"platform": "wechat", "appid": "wx4f4bc4dec97d474b", "secretEnv": "WX_APP_SECRET"},
  {"platform": "douyin", "appid": "tt0123456789abcdef", "secretEnv": "TT_APP_SECRET"}
]`

// env returns a getenv of vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// pemBody returns the first line of a PEM block's base64: a piece of the key
// that no error may carry.
func pemBody(p string) string {
	return strings.Split(p, "\n")[1]
}

// writeConfig writes text to an apps.json of its own and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "apps.json")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

// TestTwoPlatformsFake serves a WeChat and a Douyin app from a config file
// with -fake: each platform's fake is started, a user of each logs in with
// the phone of its platform, and /api/me tells the platforms apart.
func TestTwoPlatformsFake(t *testing.T) {
	base, out, stop := startWith(t, []string{"-fake", "-apps", writeConfig(t, twoApps)}, noEnv)

	for _, app := range []struct{ platform, appid string }{{"wechat", "wx4f4bc4dec97d474b"}, {"douyin", "tt0123456789abcdef"}} {
		st, m := do(t, http.MethodGet, base+"/dev/code?appid="+app.appid, "", "")
		require.Equal(t, http.StatusOK, st, "%v", m)
		code := m["code"].(string)
		st, m = do(t, http.MethodPost, base+"/api/login", "", `{"appid":"`+app.appid+`","code":"`+code+`"}`)
		require.Equal(t, http.StatusOK, st, "%v", m)
		assert.Equal(t, false, m["registered"], app.platform)
		token := m["token"].(string)

		st, phone := do(t, http.MethodGet, base+"/dev/phonecode?appid="+app.appid, "", "")
		require.Equal(t, http.StatusOK, st, "%v", phone)
		require.NotEmpty(t, phone["phoneCode"], "WeChat and Douyin: a phone code")
		st, m = do(t, http.MethodPost, base+"/api/phone", token, `{"phoneCode":"`+phone["phoneCode"].(string)+`"}`)
		require.Equal(t, http.StatusOK, st, "%v", m)
		assert.Equal(t, true, m["registered"], app.platform)

		st, m = do(t, http.MethodGet, base+"/api/me", m["token"].(string), "")
		require.Equal(t, http.StatusOK, st)
		assert.Equal(t, app.platform, m["platform"])
		assert.Equal(t, app.appid, m["appid"])
		assert.Equal(t, "u1", m["userId"], "one phone, one user across the platforms")
	}

	// Two apps: a login must name its app.
	st, m := do(t, http.MethodPost, base+"/api/login", "", `{"code":"whatever"}`)
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, "unknown_app", m["error"])
	assert.Equal(t, http.StatusNotFound, status(t, http.MethodGet, base+"/dev/code", ""), "two fakes: /dev/code needs the appid")

	require.NoError(t, stop())
	logs := out.String()
	assert.Contains(t, logs, `"appid":"tt0123456789abcdef","platform":"douyin","code":"`)
	assert.Contains(t, logs, "platform=wechat appid=wx4f4bc4dec97d474b")
	assert.NotContains(t, logs, fakePlatSecret)
	assert.NotContains(t, logs, "PRIVATE KEY")
}

// TestTwoPlatformsFromEnv serves the same config from MINIAUTH_APPS, with
// the secrets in the environment, against the real platforms: nothing is
// called at start, an unknown appid is refused before any call, and no
// secret reaches the output.
func TestTwoPlatformsFromEnv(t *testing.T) {
	vars := map[string]string{appsEnv: twoApps, "WX_APP_SECRET": wxSecretValue, "TT_APP_SECRET": ttSecretValue}
	base, out, stop := startWith(t, nil, env(vars))
	st, m := do(t, http.MethodPost, base+"/api/login", "", `{"appid":"wx0000000000000000","code":"abc"}`)
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, "unknown_app", m["error"])
	assert.Equal(t, http.StatusNotFound, status(t, http.MethodGet, base+"/dev/code", ""), "no fake codes when talking to the platforms")
	require.NoError(t, stop())
	logs := out.String()
	assert.Contains(t, logs, "platform=douyin appid=tt0123456789abcdef")
	for _, secret := range []string{wxSecretValue, ttSecretValue} {
		assert.NotContains(t, logs, secret)
	}
}

// TestBadConfig: every mistake in a config stops the server at start with
// an error that says what is wrong, and never a secret.
func TestBadConfig(t *testing.T) {
	t.Parallel()
	zfb := alipayauthtest.NewServer("2021004100000001")
	t.Cleanup(zfb.Close)
	vars := map[string]string{"WX_APP_SECRET": wxSecretValue, "ALIPAY_KEY": zfb.AppPrivateKey(), "ALIPAY_PUB": zfb.AlipayPublicKey()}
	tests := []struct {
		name   string
		config string
		fake   bool
		want   string
	}{
		{"not JSON", `{platform: wechat}`, false, "not a JSON array of apps"},
		{"an object, not an array", `{"platform":"wechat","appid":"wx4f4bc4dec97d474b"}`, false, "not a JSON array of apps"},
		{"no apps", `[]`, false, "no apps"},
		{"data after", `[{"platform":"wechat","appid":"wx4f4bc4dec97d474b","secretEnv":"WX_APP_SECRET"}] []`, false, "data after"},
		{"unknown field", `[{"platform":"wechat","appid":"wx4f4bc4dec97d474b","secertEnv":"WX_APP_SECRET"}]`, false, `unknown field "secertEnv"`},
		{"unknown platform", `[{"platform":"myspace","appid":"x1"}]`, true, `platform "myspace" is none of alipay, baidu, douyin, kuaishou, qq, wechat, wecom`},
		{"no appid", `[{"platform":"qq","secretEnv":"WX_APP_SECRET"}]`, false, "app 1: qq: no appid"},
		{"both ways", `[{"platform":"wechat","appid":"wx4f4bc4dec97d474b","secret":"` + wxSecretValue + `","secretEnv":"WX_APP_SECRET"}]`, false, "secret and secretEnv both given"},
		{"key of another platform", `[{"platform":"wechat","appid":"wx4f4bc4dec97d474b","secretEnv":"WX_APP_SECRET","corpId":"ww1"}]`, true, "corpId is not used on wechat"},
		{"secret on alipay", `[{"platform":"alipay","appid":"2021004100000001","secret":"` + wxSecretValue + `"}]`, true, "secret is not used on alipay"},
		{"env not set", `[{"platform":"wechat","appid":"wx4f4bc4dec97d474b","secretEnv":"NO_SUCH_VAR"}]`, false, "secretEnv names NO_SUCH_VAR, which is not set"},
		{"no secret", `[{"platform":"kuaishou","appid":"ks671234567890123456"}]`, false, "no secret (give secret or secretEnv)"},
		{"no alipay public key", `[{"platform":"alipay","appid":"2021004100000001","privateKeyEnv":"ALIPAY_KEY"}]`, false, "no alipayPublicKey"},
		{"alipay keys swapped", `[{"platform":"alipay","appid":"2021004100000001","privateKeyEnv":"ALIPAY_PUB","alipayPublicKeyEnv":"ALIPAY_KEY"}]`, false, "alipay 2021004100000001: alipayauth"},
		{"wecom without corp", `[{"platform":"wecom","appid":"wx4f4bc4dec97d474b","secretEnv":"WX_APP_SECRET"}]`, false, "no corpId"},
		{"one app twice", `[{"platform":"wechat","appid":"wx4f4bc4dec97d474b","secretEnv":"WX_APP_SECRET"},
			{"platform":"wechat","appid":"wx4f4bc4dec97d474b","secret":"` + wxSecretValue + `"}]`, false, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-addr", "127.0.0.1:0", "-apps", writeConfig(t, tt.config)}
			if tt.fake {
				args = append(args, "-fake")
			}
			out := &syncBuffer{}
			err := run(context.Background(), args, env(vars), out, func(string) { t.Error("the server started") })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "config"), "%q says it is the config", err)
			for _, secret := range []string{wxSecretValue, pemBody(zfb.AppPrivateKey()), pemBody(zfb.AlipayPublicKey())} {
				assert.NotContains(t, err.Error(), secret)
				assert.NotContains(t, out.String(), secret)
			}
		})
	}

	t.Run("no such file", func(t *testing.T) {
		t.Parallel()
		err := run(context.Background(), []string{"-apps", filepath.Join(t.TempDir(), "nope.json")}, noEnv, &syncBuffer{}, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "nope.json")
	})
	t.Run("config and WX_APPID", func(t *testing.T) {
		t.Parallel()
		err := run(context.Background(), []string{"-apps", writeConfig(t, twoApps)}, env(map[string]string{"WX_APPID": "wx1"}), &syncBuffer{}, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "exclude each other")
	})
}
