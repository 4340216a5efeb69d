package session_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/session"
)

const testKey = "tiihtNczf5v6AKRyjwEUhQ=="

func testRecord() session.Record {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return session.Record{
		OpenID:     "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
		UnionID:    "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
		SessionKey: testKey,
		IssuedAt:   at,
		ExpiresAt:  at.Add(time.Hour),
	}
}

func TestRecordHidesSessionKey(t *testing.T) {
	t.Parallel()
	rec := testRecord()
	outputs := map[string]string{
		"String":   rec.String(),
		"GoString": rec.GoString(),
		"%v":       fmt.Sprintf("%v", rec),
		"%+v":      fmt.Sprintf("%+v", rec),
		"%#v":      fmt.Sprintf("%#v", rec),
		"%s":       fmt.Sprintf("%s", rec),
		"%q":       fmt.Sprintf("%q", rec),
		"%x":       fmt.Sprintf("%x", rec),
		"pointer":  fmt.Sprintf("%v", &rec),
		"Println":  fmt.Sprintln(rec, &rec),
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("login", "rec", rec, "ptr", &rec)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("login", "rec", rec)
	outputs["slog text"] = text.String()
	outputs["slog json"] = js.String()
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	outputs["json"] = string(b)

	for name, out := range outputs {
		assert.NotContains(t, out, testKey, name)
		assert.NotContains(t, out, strings.TrimRight(testKey, "="), name)
		assert.Contains(t, out, rec.OpenID, name)
	}
	assert.Contains(t, rec.String(), "REDACTED")
	assert.Contains(t, session.Record{OpenID: "o"}.String(), `SessionKey: ""`, "an empty key is shown as empty")
}

func TestMarshalRecordRoundTrip(t *testing.T) {
	t.Parallel()
	rec := testRecord()
	b, err := session.MarshalRecord(&rec)
	require.NoError(t, err)
	assert.Contains(t, string(b), testKey, "the stored form keeps the session key")

	got, err := session.UnmarshalRecord(b)
	require.NoError(t, err)
	assert.Equal(t, rec.SessionKey, got.SessionKey)
	assert.Equal(t, rec.OpenID, got.OpenID)
	assert.Equal(t, rec.UnionID, got.UnionID)
	assert.True(t, rec.IssuedAt.Equal(got.IssuedAt))
	assert.True(t, rec.ExpiresAt.Equal(got.ExpiresAt))

	_, err = session.MarshalRecord(nil)
	assert.Error(t, err)
}

func TestUnmarshalRecordRefuses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 257)
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not json", "not json at all " + testKey},
		{"array", "[]"},
		{"wrong type", `{"openid": 12}`},
		{"no openid", `{"session_key":"k"}`},
		{"openid too long", `{"openid":"` + long + `"}`},
		{"session key too long", `{"openid":"o","session_key":"` + long + `"}`},
		{"over the size limit", `{"openid":"o","unionid":"` + strings.Repeat("u", session.MaxRecordLen) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := session.UnmarshalRecord([]byte(tt.in))
			require.Error(t, err)
			assert.Nil(t, rec)
			assert.True(t, strings.HasPrefix(err.Error(), "session: unmarshal record: "), err.Error())
			assert.NotContains(t, err.Error(), testKey, "the error never quotes the input")
		})
	}
}

func FuzzUnmarshalRecord(f *testing.F) {
	rec := testRecord()
	good, _ := session.MarshalRecord(&rec)
	f.Add(good)
	f.Add([]byte(`{"openid":"o"}`))
	f.Add([]byte(`{"openid":"o","issued_at":"x"}`))
	f.Add([]byte(`null`))
	idle := testRecord()
	idle.IdleExpiresAt = idle.IssuedAt.Add(30 * time.Minute)
	withIdle, _ := session.MarshalRecord(&idle)
	f.Add(withIdle)
	f.Add([]byte(`{"openid":"o","idle_expires_at":"2025-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"openid":"o","idle_expires_at":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := session.UnmarshalRecord(b)
		if err != nil {
			if rec != nil {
				t.Fatal("a record beside an error")
			}
			return
		}
		if rec.OpenID == "" {
			t.Fatal("a record without an openid")
		}
		again, err := session.MarshalRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		back, err := session.UnmarshalRecord(again)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if back.OpenID != rec.OpenID || back.UnionID != rec.UnionID || back.SessionKey != rec.SessionKey ||
			!back.IssuedAt.Equal(rec.IssuedAt) || !back.ExpiresAt.Equal(rec.ExpiresAt) ||
			!back.IdleExpiresAt.Equal(rec.IdleExpiresAt) {
			t.Fatalf("round trip changed the record: %#v vs %#v", rec, back)
		}
	})
}
