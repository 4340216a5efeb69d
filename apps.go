package miniauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Apps says which client serves a request's app. Package session's handlers
// take one: the login body's appid picks the app.
//
// App returns the client of appID, or an error matching [ErrUnknownApp]
// when there is none. An empty appID asks for the one app served: an Apps of
// several apps answers it with ErrUnknownApp, so that a multi-app endpoint
// refuses a login that does not say its app. Other errors (a tenant
// database that is down) are the Apps' own and are not the user's fault.
//
// Every platform client is the Apps of its one app: it returns itself for
// its own appid or for "". [NewApps] is a fixed set, [AppsFunc] the function
// form. Implementations must be safe for concurrent use.
type Apps interface {
	App(ctx context.Context, appID string) (Client, error)
}

// PlatformApps is an [Apps] that can tell apart two clients of one appid on
// two platforms (a WeChat mini-program opened in WeCom logs in with
// wx.qy.login under the same appid). Package session uses AppOn when the
// login body names a platform.
type PlatformApps interface {
	Apps
	// AppOn returns the client of appID on platform p (any platform for an
	// empty p), or an error matching [ErrUnknownApp].
	AppOn(ctx context.Context, p Platform, appID string) (Client, error)
}

// AppsFunc is an [Apps] as a function, for apps known only at run time
// (tenants in a database). It is called on every login, so it should answer
// from memory: keep the clients in a map (or a cache with a TTL) filled from
// the database, build each client once (a client keeps its access token and
// connections), and return an error matching [ErrUnknownApp] for an appid
// that is not a tenant, and for "" when it serves several apps.
type AppsFunc func(ctx context.Context, appID string) (Client, error)

// App calls f.
func (f AppsFunc) App(ctx context.Context, appID string) (Client, error) {
	c, err := f(ctx, appID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("miniauth: app %q: %w", clip(appID), ErrUnknownApp)
	}
	return c, nil
}

// AppSet is a fixed set of clients keyed by platform and appid: the [Apps]
// that [NewApps] returns. It is safe for concurrent use.
type AppSet struct {
	byID map[string][]Client // appid -> its clients, one per platform
	one  Client              // the only client, when the set has one
}

var _ PlatformApps = (*AppSet)(nil)

// NewApps returns the set of clients. Each is keyed by its platform and
// appid; one appid may serve two platforms. A nil client, one with an empty
// appid or platform, or two with the same platform and appid is an error.
func NewApps(clients ...Client) (*AppSet, error) {
	s := &AppSet{byID: make(map[string][]Client, len(clients))}
	for i, c := range clients {
		if c == nil {
			return nil, fmt.Errorf("miniauth: NewApps: client %d is nil", i)
		}
		id, p := c.AppID(), c.Platform()
		if id == "" || p == "" {
			return nil, fmt.Errorf("miniauth: NewApps: client %d has an empty appid or platform", i)
		}
		for _, o := range s.byID[id] {
			if o.Platform() == p {
				return nil, fmt.Errorf("miniauth: NewApps: appid %q on %s twice", clip(id), p)
			}
		}
		s.byID[id] = append(s.byID[id], c)
	}
	if len(clients) == 1 {
		s.one = clients[0]
	}
	return s, nil
}

// App returns the client of appID: [ErrUnknownApp] for an appid not in the
// set, for one that two platforms serve, and for "" unless the set holds
// one client.
func (s *AppSet) App(ctx context.Context, appID string) (Client, error) {
	return s.AppOn(ctx, "", appID)
}

// AppOn returns the client of appID on platform p; an empty p accepts any
// platform, and is ambiguous ([ErrUnknownApp]) for an appid that two
// platforms serve.
func (s *AppSet) AppOn(_ context.Context, p Platform, appID string) (Client, error) {
	if appID == "" {
		if s.one != nil && (p == "" || s.one.Platform() == p) {
			return s.one, nil
		}
		return nil, fmt.Errorf("miniauth: no appid given and %d apps served: %w", s.Len(), ErrUnknownApp)
	}
	cs := s.byID[appID]
	var found Client
	for _, c := range cs {
		if p != "" && c.Platform() != p {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("miniauth: app %q is served on several platforms and none was named: %w", clip(appID), ErrUnknownApp)
		}
		found = c
	}
	if found == nil {
		if p != "" {
			return nil, fmt.Errorf("miniauth: app %q on %q: %w", clip(appID), clip(string(p)), ErrUnknownApp)
		}
		return nil, fmt.Errorf("miniauth: app %q: %w", clip(appID), ErrUnknownApp)
	}
	return found, nil
}

// Len returns the number of clients in the set.
func (s *AppSet) Len() int {
	n := 0
	for _, cs := range s.byID {
		n += len(cs)
	}
	return n
}

// Clients returns the set's clients, ordered by appid and platform.
func (s *AppSet) Clients() []Client {
	out := make([]Client, 0, s.Len())
	for _, cs := range s.byID {
		out = append(out, cs...)
	}
	slices.SortFunc(out, func(a, b Client) int {
		if c := strings.Compare(a.AppID(), b.AppID()); c != 0 {
			return c
		}
		return strings.Compare(string(a.Platform()), string(b.Platform()))
	})
	return out
}

// SingleApp returns the [Apps] of one client: c for c's appid or "", and
// [ErrUnknownApp] for any other. Platform packages use it to make their
// clients the Apps of their one app.
func SingleApp(ctx context.Context, c Client, appID string) (Client, error) {
	if appID == "" || appID == c.AppID() {
		return c, nil
	}
	return nil, fmt.Errorf("miniauth: app %q is not served here: %w", clip(appID), ErrUnknownApp)
}

// ResolveApp returns the client of appID on platform p from apps: an apps
// that is itself a [Client] serves its own app ([SingleApp], without calling
// its App method: a type that embeds a platform's *App would answer with the
// embedded App, not itself); else through [PlatformApps.AppOn] when apps has
// it, else through App, refusing a client of another platform than a
// non-empty p. Every failure matches [ErrUnknownApp] unless apps itself
// failed for another reason.
func ResolveApp(ctx context.Context, apps Apps, p Platform, appID string) (Client, error) {
	if apps == nil {
		return nil, errors.New("miniauth: no apps configured")
	}
	var c Client
	var err error
	if one, ok := apps.(Client); ok {
		c, err = SingleApp(ctx, one, appID)
	} else if pa, ok := apps.(PlatformApps); ok {
		return pa.AppOn(ctx, p, appID)
	} else {
		c, err = apps.App(ctx, appID)
	}
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("miniauth: app %q: %w", clip(appID), ErrUnknownApp)
	}
	if p != "" && c.Platform() != p {
		return nil, fmt.Errorf("miniauth: app %q is not served on %q: %w", clip(appID), clip(string(p)), ErrUnknownApp)
	}
	return c, nil
}

// clip shortens an id from a request for an error message, so that a
// hostile client cannot flood logs through it, and keeps it printable.
func clip(s string) string {
	const max = 64
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b = append(b, c)
	}
	if len(s) > max {
		return string(b) + "..."
	}
	return string(b)
}
