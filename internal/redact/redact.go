// Package redact removes secrets from text that may reach an error string or a
// log line: query parameters that carry credentials, and known secret values.
package redact

import (
	"net/url"
	"strings"
)

// Placeholder replaces every secret this package removes.
const Placeholder = "REDACTED"

// sensitiveParams are the query parameters the platforms' APIs carry
// credentials in: WeChat's, and its siblings' (Baidu's sk and
// client_secret, Kuaishou's app_secret, the component and refresh tokens).
var sensitiveParams = [...]string{"secret", "js_code", "code", "access_token", "signature", "session_key", "appsecret",
	"sk", "client_secret", "app_secret", "component_access_token", "refresh_token", "component_appsecret"}

// URL returns raw with the values of credential-carrying query parameters
// (secret, js_code, access_token, ...) replaced by [Placeholder], and any
// userinfo dropped. Text that does not parse as a URL is replaced whole, since
// nothing about it can be shown safely.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Placeholder
	}
	u.User = nil
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = Placeholder
		} else {
			for _, k := range sensitiveParams {
				if _, ok := q[k]; ok {
					q.Set(k, Placeholder)
				}
			}
			u.RawQuery = q.Encode()
		}
	}
	u.Fragment = ""
	return u.String()
}

// MinSecretLen is the shortest secret [Strings] replaces: shorter values would
// match ordinary words. Real app secrets, codes and session keys are 24 to 32
// bytes.
const MinSecretLen = 8

// Strings returns s with every secret of at least [MinSecretLen] bytes
// replaced by [Placeholder], in plain and in query-escaped form.
func Strings(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < MinSecretLen {
			continue
		}
		s = strings.ReplaceAll(s, sec, Placeholder)
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, Placeholder)
		}
	}
	return s
}
