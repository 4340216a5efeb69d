package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/sqlstore"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	outageAppID  = "wx0123456789abcdef"
	outageSecret = "outage-test-secret-0123456789abcd"
)

// viaProxy opens a new, empty database of the server kind ("MySQL" or
// "PostgreSQL") whose connections go through a proxy the test controls.
func viaProxy(t testing.TB, kind string) (*sql.DB, sqlstore.Dialect, *proxy) {
	t.Helper()
	name := uniqueName()
	switch kind {
	case "MySQL":
		dsn := env(t, "MYSQL_DSN", "MariaDB or MySQL")
		scratch(t, "mysql", dsn, "CREATE DATABASE "+name, "DROP DATABASE "+name)
		cfg, err := mysql.ParseDSN(dsn)
		require.NoError(t, err)
		p := newProxy(t, cfg.Addr)
		cfg.Addr, cfg.DBName = p.Addr(), name
		db, err := sql.Open("mysql", cfg.FormatDSN())
		require.NoError(t, err)
		return db, sqlstore.MySQL, p
	case "PostgreSQL":
		dsn := env(t, "PG_DSN", "PostgreSQL")
		scratch(t, "pgx", dsn, "CREATE SCHEMA "+name, "DROP SCHEMA "+name+" CASCADE")
		cfg, err := pgx.ParseConfig(dsn)
		require.NoError(t, err)
		p := newProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
		host, port, _ := net.SplitHostPort(p.Addr())
		n, _ := strconv.Atoi(port)
		cfg.Host, cfg.Port, cfg.Fallbacks = host, uint16(n), nil
		cfg.RuntimeParams["search_path"] = name
		return stdlib.OpenDB(*cfg), sqlstore.PostgreSQL, p
	}
	t.Fatalf("unknown server %q", kind)
	return nil, 0, nil
}

// logLines records the levels and messages of a Manager's log.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logLines) WithGroup(string) slog.Handler            { return l }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	if r.Level <= slog.LevelDebug {
		return nil
	}
	var attrs []string
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.String()); return true })
	l.mu.Lock()
	l.lines = append(l.lines, r.Level.String()+" "+r.Message+" "+strings.Join(attrs, " "))
	l.mu.Unlock()
	return nil
}

// aboveDebug returns the lines logged above Debug.
func (l *logLines) aboveDebug() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// loginStack is a login service on a SQL account store behind a proxy,
// against the fake WeChat.
type loginStack struct {
	fake   *wxauthtest.Server
	proxy  *proxy
	m      *session.Manager
	logs   *logLines
	login  http.Handler
	phone  http.Handler
	phones atomic.Int64
}

func newLoginStack(t testing.TB, kind string) *loginStack {
	t.Helper()
	db, d, p := viaProxy(t, kind)
	store := newStore(t, db, d)
	fake := wxauthtest.NewServer(outageAppID, outageSecret)
	t.Cleanup(fake.Close)
	app, err := wxauth.New(outageAppID, outageSecret, wxauth.WithBaseURL(fake.URL), wxauth.WithRetry(0))
	require.NoError(t, err)
	logs := &logLines{}
	m := session.NewManager(nil, session.WithLogger(slog.New(logs)))
	require.NoError(t, m.Err())
	t.Cleanup(func() { _ = m.Close() })
	hook := session.WithOnLogin(account.OnLogin(account.New(store)))
	return &loginStack{fake: fake, proxy: p, m: m, logs: logs,
		login: session.LoginHandler(app, m, hook), phone: session.PhoneHandler(app, m, hook)}
}

// user adds a user of the fake with a phone number of its own.
func (s *loginStack) user() string {
	n := s.phones.Add(1)
	pure := fmt.Sprintf("139%08d", n)
	return s.fake.AddUser(wxauthtest.User{PhoneNumber: pure, PurePhoneNumber: pure, CountryCode: "86"})
}

// post sends body to h (with the bearer token when not empty) and returns
// the status and the decoded answer.
func post(t testing.TB, h http.Handler, token string, body map[string]string) (int, map[string]any) {
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(b)))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var resp map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Errorf("answer %d is not JSON: %q", w.Code, w.Body.String())
	}
	return w.Code, resp
}

// phoneLogin posts a login with a wx.login code and a phone code of a new
// user.
func (s *loginStack) phoneLogin(t testing.TB) (int, map[string]any) {
	openID := s.user()
	pc, err := s.fake.PhoneCode(openID)
	require.NoError(t, err)
	return post(t, s.login, "", map[string]string{"code": s.fake.Login(openID), "phoneCode": pc})
}

// spent returns the codes WeChat has exchanged: wx.login codes and phone
// codes.
func (s *loginStack) spent() (login, phone int) {
	return s.fake.Calls(wxauthtest.PathCode2Session), s.fake.Calls(wxauthtest.PathPhoneNumber)
}
