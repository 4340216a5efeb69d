package wxauthtest

import "fmt"

// String returns the server's URL and appid, as
// "wxauthtest.Server{URL: ..., AppID: ...}": never its app secret, the codes,
// session_keys or access tokens it issued, or its users.
func (s *Server) String() string {
	return fmt.Sprintf("wxauthtest.Server{URL: %q, AppID: %q}", s.URL, s.appID)
}

// GoString is String, for %#v.
func (s *Server) GoString() string { return s.String() }

// Format prints String whatever the verb, so that %+v of a *Server in a
// failing test's output shows none of its secrets.
func (s *Server) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }
