package engine

import (
	"net"
	"net/http"
	"time"
)

// The connection pool of the default transport, as the platforms'
// WithHTTPClient docs state it.
const (
	// MaxIdleConnsPerHost is how many idle keep-alive connections to a
	// platform the default transport keeps: enough for a login server's
	// concurrent calls, so that each call reuses a connection instead of
	// opening (and TLS-handshaking) a new one.
	MaxIdleConnsPerHost = 100
	// IdleConnTimeout is how long an idle connection is kept.
	IdleConnTimeout = 90 * time.Second
)

// DefaultTransport returns the transport of a [Client] that was given no
// transport of its own: a clone of http.DefaultTransport (proxy from the
// environment, dial and TLS timeouts, HTTP/2 where the server offers it)
// whose idle pool is sized for concurrent calls. http.DefaultTransport
// keeps 2 idle connections per host and the one resty builds GOMAXPROCS+1:
// under load every call past those opens a new connection and leaves a
// socket in TIME_WAIT when it closes.
//
// A program may have replaced http.DefaultTransport by a RoundTripper that
// is no *http.Transport (a tracing wrapper, httpmock.Activate): the Client
// then builds one with net/http's default settings, as resty did before.
func DefaultTransport() *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t.MaxIdleConns = MaxIdleConnsPerHost
	t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	t.IdleConnTimeout = IdleConnTimeout
	t.ForceAttemptHTTP2 = true
	return t
}
