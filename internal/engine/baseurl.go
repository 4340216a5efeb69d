package engine

import (
	"fmt"
	"net/url"

	"github.com/wxmp/miniauth/internal/redact"
)

// BaseURL checks base for a platform's WithBaseURL option and returns it
// without its trailing slashes: it must be an absolute http or https URL
// without userinfo, query or fragment. The error, prefixed with pkg, quotes
// base as [SafeURL] shows it.
func BaseURL(pkg, base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: base URL must be an absolute http(s) URL, got %q", pkg, SafeURL(base))
	}
	if u.RawQuery != "" || u.ForceQuery || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("%s: base URL must not carry userinfo, a query or a fragment, got %q", pkg, SafeURL(base))
	}
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base, nil
}

// SafeURL returns raw as an error may quote it: userinfo (a proxy's
// password), query, fragment and opaque part replaced by REDACTED, and text
// that does not parse as a URL not shown at all.
func SafeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redact.Placeholder
	}
	if u.User != nil {
		u.User = url.User(redact.Placeholder)
	}
	if u.Opaque != "" {
		u.Opaque = redact.Placeholder
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = redact.Placeholder, false
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = redact.Placeholder, ""
	}
	return u.String()
}
