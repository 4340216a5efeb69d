package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/alipayauth"
	"github.com/wxmp/miniauth/baiduauth"
	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/kuaishouauth"
	"github.com/wxmp/miniauth/qqauth"
	"github.com/wxmp/miniauth/wecomauth"
	"github.com/wxmp/miniauth/wxauth"
)

// appsEnv is the environment variable that may hold the config, as JSON,
// instead of the file of -apps.
const appsEnv = "MINIAUTH_APPS"

// maxConfigLen caps the config: a few apps take a few KiB.
const maxConfigLen = 1 << 20

// appConfig is one app of the config: a JSON array of objects such as
//
//	[
//	  {"platform": "wechat", "appid": "wx4f4bc4dec97d474b", "secretEnv": "WX_SECRET"},
//	  {"platform": "douyin", "appid": "tt0123456789abcdef", "secretEnv": "TT_SECRET", "privateKeyEnv": "TT_PRIVATE_KEY"},
//	  {"platform": "alipay", "appid": "2021004100000001", "privateKeyEnv": "ALIPAY_APP_PRIVATE_KEY",
//	   "alipayPublicKeyEnv": "ALIPAY_PUBLIC_KEY", "aesKeyEnv": "ALIPAY_AES_KEY"},
//	  {"platform": "wecom", "appid": "wx4f4bc4dec97d474b", "corpId": "ww0123456789abcdef", "secretEnv": "WECOM_APP_SECRET"}
//	]
//
// Each secret or key is given as the value itself (secret, privateKey, ...)
// or, better, as the name of the environment variable that holds it
// (secretEnv, privateKeyEnv, ...), so that the file holds no secret. What
// each platform needs:
//
//	wechat, qq, baidu, kuaishou  secret (Baidu: appid is the AppKey)
//	douyin                       secret; privateKey for phone numbers
//	alipay                       privateKey (the app's RSA2 key), alipayPublicKey; aesKey for phone numbers
//	wecom                        corpId, secret (of the WeCom app the mini-program is associated with)
//
// A field a platform does not use, an unknown field, a key given both ways
// or an environment variable that is not set is an error at start-up.
type appConfig struct {
	Platform           miniauth.Platform `json:"platform"`
	AppID              string            `json:"appid"`
	Secret             string            `json:"secret,omitempty"`
	SecretEnv          string            `json:"secretEnv,omitempty"`
	PrivateKey         string            `json:"privateKey,omitempty"`
	PrivateKeyEnv      string            `json:"privateKeyEnv,omitempty"`
	AlipayPublicKey    string            `json:"alipayPublicKey,omitempty"`
	AlipayPublicKeyEnv string            `json:"alipayPublicKeyEnv,omitempty"`
	AESKey             string            `json:"aesKey,omitempty"`
	AESKeyEnv          string            `json:"aesKeyEnv,omitempty"`
	CorpID             string            `json:"corpId,omitempty"`
}

// The keys of an app, by their names in the config.
const (
	keySecret          = "secret"
	keyPrivateKey      = "privateKey"
	keyAlipayPublicKey = "alipayPublicKey"
	keyAESKey          = "aesKey"
	keyCorpID          = "corpId"
)

// needs says which keys each platform requires and which it may have.
var needs = map[miniauth.Platform]struct{ required, optional []string }{
	miniauth.WeChat:   {required: []string{keySecret}},
	miniauth.QQ:       {required: []string{keySecret}},
	miniauth.Baidu:    {required: []string{keySecret}},
	miniauth.Kuaishou: {required: []string{keySecret}},
	miniauth.Douyin:   {required: []string{keySecret}, optional: []string{keyPrivateKey}},
	miniauth.Alipay:   {required: []string{keyPrivateKey, keyAlipayPublicKey}, optional: []string{keyAESKey}},
	miniauth.WeCom:    {required: []string{keySecret, keyCorpID}},
}

// platformNames lists the platforms a config may name, for error messages.
func platformNames() string {
	var names []string
	for p := range needs {
		names = append(names, string(p))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// readConfig returns the config of the file path, else of the environment
// variable MINIAUTH_APPS, else nil (no config: WX_APPID and WX_SECRET, or
// -fake alone).
func readConfig(path string, getenv func(string) string) ([]appConfig, error) {
	var data []byte
	switch {
	case path != "":
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, maxConfigLen+1))
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	case getenv(appsEnv) != "":
		data = []byte(getenv(appsEnv))
	default:
		return nil, nil
	}
	if len(data) > maxConfigLen {
		return nil, fmt.Errorf("config: over %d bytes", maxConfigLen)
	}
	var apps []appConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&apps); err != nil {
		return nil, fmt.Errorf("config: not a JSON array of apps: %w", err)
	}
	if dec.More() {
		return nil, errors.New("config: data after the array of apps")
	}
	if len(apps) == 0 {
		return nil, errors.New("config: no apps")
	}
	for i := range apps {
		if err := apps[i].check(); err != nil {
			return nil, fmt.Errorf("config: app %d: %w", i+1, err)
		}
	}
	return apps, nil
}

// given returns whether key was set, either way.
func (c *appConfig) given(key string) bool {
	v, env := c.raw(key)
	return v != "" || env != ""
}

// raw returns the value and the environment variable name of key.
func (c *appConfig) raw(key string) (value, env string) {
	switch key {
	case keySecret:
		return c.Secret, c.SecretEnv
	case keyPrivateKey:
		return c.PrivateKey, c.PrivateKeyEnv
	case keyAlipayPublicKey:
		return c.AlipayPublicKey, c.AlipayPublicKeyEnv
	case keyAESKey:
		return c.AESKey, c.AESKeyEnv
	case keyCorpID:
		return c.CorpID, ""
	}
	return "", ""
}

// check checks what can be checked without the environment: a known
// platform, an appid, no key given both ways, no key the platform does not
// use. Whether a required key is there is checked by [appConfig.client], so
// that -fake needs none.
func (c *appConfig) check() error {
	n, ok := needs[c.Platform]
	if !ok {
		return fmt.Errorf("platform %q is none of %s", c.Platform, platformNames())
	}
	if c.AppID == "" {
		return fmt.Errorf("%s: no appid", c.Platform)
	}
	for _, key := range []string{keySecret, keyPrivateKey, keyAlipayPublicKey, keyAESKey, keyCorpID} {
		v, env := c.raw(key)
		if v != "" && env != "" {
			return fmt.Errorf("%s %s: %s and %sEnv both given: keep one", c.Platform, c.AppID, key, key)
		}
		if c.given(key) && !slices.Contains(n.required, key) && !slices.Contains(n.optional, key) {
			return fmt.Errorf("%s %s: %s is not used on %s", c.Platform, c.AppID, key, c.Platform)
		}
	}
	return nil
}

// value returns key's value, from the config or the environment: an error
// names the key and the variable, never a value.
func (c *appConfig) value(key string, getenv func(string) string, required bool) (string, error) {
	v, env := c.raw(key)
	if env != "" {
		if v = getenv(env); v == "" {
			return "", fmt.Errorf("%s %s: %sEnv names %s, which is not set", c.Platform, c.AppID, key, env)
		}
	}
	if v == "" && required {
		return "", fmt.Errorf("%s %s: no %s (give %s or %sEnv)", c.Platform, c.AppID, key, key, key)
	}
	return v, nil
}

// client returns the platform client of the app, with its keys from the
// config or the environment. base, when not empty, is the URL of a fake
// that the client calls instead of the platform.
func (c *appConfig) client(getenv func(string) string, base string, logger *slog.Logger) (miniauth.Client, error) {
	n := needs[c.Platform]
	vals := map[string]string{}
	for _, key := range append(slices.Clone(n.required), n.optional...) {
		v, err := c.value(key, getenv, slices.Contains(n.required, key))
		if err != nil {
			return nil, err
		}
		vals[key] = v
	}
	var (
		cl  miniauth.Client
		err error
	)
	switch c.Platform {
	case miniauth.WeChat:
		opts := []wxauth.Option{wxauth.WithLogger(logger)}
		if base != "" {
			opts = append(opts, wxauth.WithBaseURL(base))
		}
		cl, err = wxauth.New(c.AppID, vals[keySecret], opts...)
	case miniauth.QQ:
		opts := []qqauth.Option{qqauth.WithLogger(logger)}
		if base != "" {
			opts = append(opts, qqauth.WithBaseURL(base))
		}
		cl, err = qqauth.New(c.AppID, vals[keySecret], opts...)
	case miniauth.Douyin:
		opts := []douyinauth.Option{douyinauth.WithLogger(logger)}
		if base != "" {
			opts = append(opts, douyinauth.WithBaseURL(base))
		}
		if k := vals[keyPrivateKey]; k != "" {
			opts = append(opts, douyinauth.WithPrivateKey(k))
		}
		cl, err = douyinauth.New(c.AppID, vals[keySecret], opts...)
	case miniauth.Alipay:
		opts := []alipayauth.Option{alipayauth.WithLogger(logger)}
		if base != "" {
			opts = append(opts, alipayauth.WithBaseURL(base))
		}
		if k := vals[keyAESKey]; k != "" {
			opts = append(opts, alipayauth.WithAESKey(k))
		}
		cl, err = alipayauth.New(c.AppID, vals[keyPrivateKey], vals[keyAlipayPublicKey], opts...)
	case miniauth.Baidu:
		opts := []baiduauth.Option{baiduauth.WithLogger(logger)}
		if base != "" {
			opts = append(opts, baiduauth.WithBaseURL(base))
		}
		cl, err = baiduauth.New(c.AppID, vals[keySecret], opts...)
	case miniauth.Kuaishou:
		opts := []kuaishouauth.Option{kuaishouauth.WithLogger(logger)}
		if base != "" {
			opts = append(opts, kuaishouauth.WithBaseURL(base))
		}
		cl, err = kuaishouauth.New(c.AppID, vals[keySecret], opts...)
	case miniauth.WeCom:
		opts := []wecomauth.Option{wecomauth.WithLogger(logger)}
		if base != "" {
			opts = append(opts, wecomauth.WithBaseURL(base))
		}
		cl, err = wecomauth.New(c.AppID, vals[keyCorpID], vals[keySecret], opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.Platform, c.AppID, err)
	}
	return cl, nil
}
