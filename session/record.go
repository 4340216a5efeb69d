package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/internal/redact"
)

// Record is the server-side state of one login: who the user is, the
// session_key WeChat gave for them, and when the login was issued and
// expires. [Manager.Validate] returns it, and [FromContext] hands it to the
// handlers behind [Manager.Middleware].
//
// The session_key decrypts the user's data and must stay on the server. A
// Record never shows it: String, GoString, Format (every fmt verb), LogValue
// (log/slog) and encoding/json all leave it out, so a handler that writes the
// Record back to the client leaks nothing. Read the field itself to use it.
// Stores that serialize records use [MarshalRecord], which keeps it.
type Record struct {
	// Subject is the application's own id of the user (its users table's
	// key), set by the login hook ([LoginInfo.Subject]) or [ForSubject].
	// It is empty for the session of an openid the application has not
	// bound to a user yet: a real state (the user logged in silently and
	// has not given a phone number), which handlers must treat as "not
	// registered", never as a user with an empty id.
	Subject string `json:"subject,omitempty"`
	// Platform is the platform of the app the login came from; empty for
	// records made before miniauth served several platforms, which means
	// [miniauth.WeChat].
	Platform miniauth.Platform `json:"platform,omitempty"`
	// AppID is the appid of the mini-program the login came from.
	AppID      string    `json:"appid,omitempty"`
	OpenID     string    `json:"openid"`
	UnionID    string    `json:"unionid,omitempty"`
	SessionKey string    `json:"-"`
	IssuedAt   time.Time `json:"issuedAt"`
	// ExpiresAt is the end of the session's absolute lifetime ([WithTTL]):
	// no use extends it.
	ExpiresAt time.Time `json:"expiresAt"`
	// IdleExpiresAt is when the session ends unless it is used before
	// ([WithIdleTimeout]): each use moves it later, never past ExpiresAt.
	// It is zero for a session of a Manager without an idle timeout.
	IdleExpiresAt time.Time `json:"idleExpiresAt,omitzero"`
}

func (r Record) safe() string {
	key := ""
	if r.SessionKey != "" {
		key = redact.Placeholder
	}
	idle := ""
	if !r.IdleExpiresAt.IsZero() {
		idle = ", IdleExpiresAt: " + r.IdleExpiresAt.Format(time.RFC3339)
	}
	if r.Platform != "" {
		return fmt.Sprintf("session.Record{Subject: %q, Platform: %q, AppID: %q, OpenID: %q, UnionID: %q, SessionKey: %q, IssuedAt: %s, ExpiresAt: %s%s}",
			r.Subject, r.Platform, r.AppID, r.OpenID, r.UnionID, key, r.IssuedAt.Format(time.RFC3339), r.ExpiresAt.Format(time.RFC3339), idle)
	}
	return fmt.Sprintf("session.Record{Subject: %q, AppID: %q, OpenID: %q, UnionID: %q, SessionKey: %q, IssuedAt: %s, ExpiresAt: %s%s}",
		r.Subject, r.AppID, r.OpenID, r.UnionID, key, r.IssuedAt.Format(time.RFC3339), r.ExpiresAt.Format(time.RFC3339), idle)
}

// String returns the record without its session_key.
func (r Record) String() string { return r.safe() }

// GoString returns the record without its session_key, for %#v.
func (r Record) GoString() string { return r.safe() }

// Format prints the record without its session_key, whatever the verb.
func (r Record) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(r.safe())) }

// LogValue returns the record for log/slog without its session_key.
func (r Record) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 7)
	if r.Subject != "" {
		attrs = append(attrs, slog.String("subject", r.Subject))
	}
	if r.Platform != "" {
		attrs = append(attrs, slog.String("platform", string(r.Platform)))
	}
	if r.AppID != "" {
		attrs = append(attrs, slog.String("appid", r.AppID))
	}
	attrs = append(attrs, slog.String("openid", r.OpenID))
	if r.UnionID != "" {
		attrs = append(attrs, slog.String("unionid", r.UnionID))
	}
	attrs = append(attrs, slog.Time("issuedAt", r.IssuedAt), slog.Time("expiresAt", r.ExpiresAt))
	if !r.IdleExpiresAt.IsZero() {
		attrs = append(attrs, slog.Time("idleExpiresAt", r.IdleExpiresAt))
	}
	return slog.GroupValue(attrs...)
}

// MaxRecordLen is the longest serialized record [UnmarshalRecord] accepts.
const MaxRecordLen = 8 << 10

// maxFieldLen caps Subject, AppID, OpenID, UnionID and SessionKey. WeChat's
// are 18 to 32 bytes.
const maxFieldLen = 256

// storedRecord is a Record as stores keep it: with its session_key.
type storedRecord struct {
	Subject    string            `json:"subject,omitempty"`
	Platform   miniauth.Platform `json:"platform,omitempty"`
	AppID      string            `json:"appid,omitempty"`
	OpenID     string            `json:"openid"`
	UnionID    string            `json:"unionid,omitempty"`
	SessionKey string            `json:"session_key"`
	IssuedAt   time.Time         `json:"issued_at"`
	ExpiresAt  time.Time         `json:"expires_at"`
	// Records of versions before idle timeouts have none: zero.
	IdleExpiresAt time.Time `json:"idle_expires_at,omitzero"`
}

// MarshalRecord encodes r as JSON for a [Store] that keeps bytes (Redis, a
// database). Unlike encoding/json on a Record, the result includes the
// session_key: keep it on the server. [UnmarshalRecord] is the inverse.
func MarshalRecord(r *Record) ([]byte, error) {
	if r == nil {
		return nil, errors.New("session: marshal record: nil record")
	}
	return json.Marshal(storedRecord(*r))
}

// UnmarshalRecord decodes what [MarshalRecord] encoded. Input over
// [MaxRecordLen] bytes, input that is not such JSON, and a record without an
// openid or with a field over 256 bytes are errors; their text never quotes
// the input.
func UnmarshalRecord(b []byte) (*Record, error) {
	if len(b) > MaxRecordLen {
		return nil, fmt.Errorf("session: unmarshal record: over %d bytes", MaxRecordLen)
	}
	var s storedRecord
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errors.New("session: unmarshal record: not a JSON record")
	}
	r := Record(s)
	if err := checkRecord(&r); err != nil {
		return nil, fmt.Errorf("session: unmarshal record: %w", err)
	}
	return &r, nil
}

// checkRecord checks the fields of a record as it is stored.
func checkRecord(r *Record) error {
	if err := checkIdentity(r.OpenID, r.UnionID, r.SessionKey); err != nil {
		return err
	}
	if len(r.Subject) > maxFieldLen || len(r.AppID) > maxFieldLen || len(r.Platform) > maxFieldLen {
		return fmt.Errorf("subject, platform and appid must be at most %d bytes", maxFieldLen)
	}
	return nil
}

// checkIdentity checks the fields a record is issued with.
func checkIdentity(openID, unionID, sessionKey string) error {
	if openID == "" {
		return errors.New("openid is empty")
	}
	if len(openID) > maxFieldLen || len(unionID) > maxFieldLen || len(sessionKey) > maxFieldLen {
		return fmt.Errorf("openid, unionid and session key must be at most %d bytes", maxFieldLen)
	}
	return nil
}
