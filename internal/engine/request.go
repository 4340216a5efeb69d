package engine

import (
	"net/url"
	"slices"
	"strings"
)

// Request describes one call to a platform's API. A Request is a value the
// dialect builds for each call; [Client.Do] does not keep it.
type Request struct {
	// Op names the API in errors and log lines, such as "code2session".
	Op string
	// Method is http.MethodGet or http.MethodPost.
	Method string
	// Base and Path make the URL without its query: Base is a host's
	// address ("https://api.weixin.qq.com", no trailing slash), Path the
	// endpoint ("/sns/jscode2session"). A platform with several hosts
	// (Douyin: developer.toutiao.com and open.douyin.com) picks the Base of
	// each call. Base may be empty when Path is the full URL.
	Base, Path string
	// Query holds the query parameters, encoded in the order of their
	// sorted keys (as url.Values.Encode does). They may carry secrets:
	// list those in Secrets.
	Query map[string]string
	// RawQuery is the query already encoded, for a hot path that encodes
	// its constant part once; when set, Query is not read.
	RawQuery string
	// JSON, when not nil, is sent as the JSON body (Content-Type
	// application/json).
	JSON any
	// Form, when not nil, is sent as a form body (Content-Type
	// application/x-www-form-urlencoded). JSON and Form exclude each other.
	Form url.Values
	// Header holds headers of this call beside the Client's (Douyin's
	// access-token). A secret in a header value belongs in Secrets too.
	Header map[string]string
	// ErrorStatus makes a 4xx reply's body count: an OAuth-style endpoint
	// (Baidu's oauth/2.0/token) answers a refusal with HTTP 400 or 401 and
	// an error body. When the body decodes and the reply says it failed,
	// the call fails with its Err; otherwise with the status's error. A
	// 5xx is always the status's error, and retried.
	ErrorStatus bool
	// Secrets are values of this call that must never reach an error or a
	// log line (a code, an access token, a signature); the Client's own
	// ([Config.Secrets]) are always added.
	Secrets []string
}

// url returns the request's URL, its query encoded in the order of its
// sorted keys (as url.Values.Encode does).
func (r *Request) url() string {
	if r.RawQuery != "" {
		return r.Base + r.Path + "?" + r.RawQuery
	}
	if len(r.Query) == 0 {
		return r.Base + r.Path
	}
	keys := make([]string, 0, len(r.Query))
	for k := range r.Query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(r.Base)
	b.WriteString(r.Path)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(r.Query[k]))
	}
	return b.String()
}
