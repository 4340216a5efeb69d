package miniauth

import (
	"fmt"
	"log/slog"
)

// placeholder stands in for a secret that is set but not shown.
const placeholder = "REDACTED"

// Session is what a platform's code exchange returns for a user: the openid
// (the user's id in this app; Alipay's user_id or open_id, WeCom's userid),
// the unionid (the user's id across the apps of one developer on the same
// platform, when there is one) and the session key, with the platform and
// the appid the session was issued for.
//
// SessionKey decrypts the user's data and must stay on the server. It may
// be empty (Alipay has none) and its length is the platform's (16 bytes,
// base64, on WeChat, QQ, Douyin and Kuaishou; 24 bytes on Baidu). A Session
// never shows it: String, GoString, Format (every fmt verb), LogValue
// (log/slog) and encoding/json all leave it out. Read the field itself to
// store it.
type Session struct {
	// Platform is the platform that issued the session. Empty means WeChat
	// (sessions made before miniauth served several platforms).
	Platform Platform `json:"platform,omitempty"`
	// AppID is the appid of the app the session belongs to (Baidu: its
	// AppKey). An openid means something only together with its appid.
	AppID string `json:"appid,omitempty"`
	// OpenID is the user's id in this app.
	OpenID string `json:"openid"`
	// UnionID is the user's id across the developer's apps on this
	// platform, or empty. The same unionid on two platforms is two people.
	UnionID string `json:"unionid,omitempty"`
	// SessionKey is the key of the user's encrypted data. It is never
	// printed, logged or marshalled.
	SessionKey string `json:"-"`
}

func (s Session) safe() string {
	key := ""
	if s.SessionKey != "" {
		key = placeholder
	}
	if s.Platform == "" {
		return fmt.Sprintf("miniauth.Session{AppID: %q, OpenID: %q, UnionID: %q, SessionKey: %q}", s.AppID, s.OpenID, s.UnionID, key)
	}
	return fmt.Sprintf("miniauth.Session{Platform: %q, AppID: %q, OpenID: %q, UnionID: %q, SessionKey: %q}", s.Platform, s.AppID, s.OpenID, s.UnionID, key)
}

// String returns the session without its key.
func (s Session) String() string { return s.safe() }

// GoString returns the session without its key, for %#v.
func (s Session) GoString() string { return s.safe() }

// Format prints the session without its key, whatever the verb.
func (s Session) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(s.safe())) }

// LogValue returns the session for log/slog without its key.
func (s Session) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 4)
	if s.Platform != "" {
		attrs = append(attrs, slog.String("platform", string(s.Platform)))
	}
	if s.AppID != "" {
		attrs = append(attrs, slog.String("appid", s.AppID))
	}
	attrs = append(attrs, slog.String("openid", s.OpenID))
	if s.UnionID != "" {
		attrs = append(attrs, slog.String("unionid", s.UnionID))
	}
	return slog.GroupValue(attrs...)
}
