// Command server is a mini-program login server on net/http:
//
//	POST /api/login   session.LoginHandler: {code, phoneCode?} -> {token, expiresIn, openid, registered, userId?}
//	POST /api/phone   session.PhoneHandler, with the token: {phoneCode} -> a new token that carries the user
//	POST /api/logout  session.LogoutHandler, with the token: 204
//	POST /api/logout/all  session.LogoutAllHandler, with the token: every session of the user ends, 204
//	GET  /api/me      behind session.Manager.Middleware: who the token belongs to
//
// A login hook binds WeChat users to the app's own with package
// account (users.go): a silent login of an openid it does not know
// gets a token without a user ({"registered": false}); the phone code, in the
// login or posted to /api/phone, binds the openid to the user of that phone
// number, or creates one.
//
// With WX_APPID and WX_SECRET set it talks to WeChat. With -fake instead it
// starts the fake WeChat of package wxauthtest inside the process, adds
// GET /dev/code and GET /dev/phonecode (a fresh fake wx.login code and phone
// code for a test user) and prints curl commands that log in: anyone who can
// reach it can then log in as that user, so fake mode is never the default,
// and the server refuses to start with neither. Requests are logged with
// log/slog (method, path, status, duration: never a query string, a token or
// a secret), and SIGINT or SIGTERM shut it down gracefully.
//
//	go run ./examples/server -fake -addr 127.0.0.1:8080
//	WX_APPID=wx... WX_SECRET=... go run ./examples/server -addr 127.0.0.1:8080
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// Fake mode's app and test user.
const (
	fakeAppID  = "wx00000000fake0000"
	fakeSecret = "fake-secret-for-local-development"
	fakeUser   = "oDevUser000000000000000000001"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully. ready, when not
// nil, is called with the listening address once requests are accepted.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	shutdownWait := fs.Duration("shutdown-timeout", 10*time.Second, "how long to let requests finish at shutdown")
	fakeMode := fs.Bool("fake", false, "use an embedded fake WeChat and a test user instead of WX_APPID and WX_SECRET (development only: anyone can log in)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(out, nil))

	appID, secret := getenv("WX_APPID"), getenv("WX_SECRET")
	var opts []wxauth.Option
	var fake *wxauthtest.Server
	switch {
	case *fakeMode && (appID != "" || secret != ""):
		return errors.New("-fake and WX_APPID/WX_SECRET exclude each other: unset them or drop -fake")
	case !*fakeMode && (appID == "" || secret == ""):
		return errors.New("set WX_APPID and WX_SECRET to talk to WeChat, or pass -fake for the embedded fake WeChat (development only)")
	case *fakeMode:
		var err error
		appID, secret = fakeAppID, fakeSecret
		if fake, err = wxauthtest.Start(appID, secret); err != nil {
			return err
		}
		defer fake.Close()
		fake.AddUser(wxauthtest.User{OpenID: fakeUser, NickName: "Dev User"})
		opts = append(opts, wxauth.WithBaseURL(fake.URL))
		logger.Warn("fake mode: the embedded fake WeChat logs anyone in; never expose this server")
	}
	app, err := wxauth.New(appID, secret, append(opts, wxauth.WithLogger(logger))...)
	if err != nil {
		return err
	}
	sessions := session.NewManager(nil, session.WithLogger(logger))
	defer sessions.Close()
	if err := sessions.Err(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{
		Handler:           logRequests(logger, routes(app, sessions, fake)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "url", base)
	if fake != nil {
		fmt.Fprintf(out, "\nLog in with a fresh fake code (each code works once; GET %s/dev/code gives another):\n\n"+
			"  curl -s -X POST %s/api/login -d '{\"code\":\"%s\"}'\n\n"+
			"then bind the phone (GET %s/dev/phonecode gives a phone code), read /api/me and log out\n"+
			"with the token it returns (/api/phone returns a new one):\n\n"+
			"  curl -s -X POST %s/api/phone -H 'Authorization: Bearer <token>' -d '{\"phoneCode\":\"<code>\"}'\n"+
			"  curl -s %s/api/me -H 'Authorization: Bearer <token>'\n"+
			"  curl -s -X POST %s/api/logout -H 'Authorization: Bearer <token>'\n\n",
			base, base, fake.Login(fakeUser), base, base, base, base)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// routes wires the login API over a new, in-memory account store. fake, when not nil,
// adds GET /dev/code and GET /dev/phonecode.
func routes(app miniauth.Apps, sessions *session.Manager, fake *wxauthtest.Server) http.Handler {
	hook := session.WithOnLogin(loginHook())
	mux := http.NewServeMux()
	// The handlers answer other methods 405 themselves.
	mux.Handle("/api/login", session.LoginHandler(app, sessions, hook))
	mux.Handle("/api/phone", session.PhoneHandler(app, sessions, hook))
	mux.Handle("/api/logout", session.LogoutHandler(sessions))
	mux.Handle("/api/logout/all", session.LogoutAllHandler(sessions))
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		writeJSON(w, map[string]any{ // never the session_key
			"userId":    rec.Subject, // "" until the phone is bound
			"openid":    rec.OpenID,
			"unionid":   rec.UnionID,
			"issuedAt":  rec.IssuedAt,
			"expiresAt": rec.ExpiresAt,
		})
	})))
	if fake != nil {
		mux.HandleFunc("GET /dev/code", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, map[string]string{"code": fake.Login(fakeUser)})
		})
		mux.HandleFunc("GET /dev/phonecode", func(w http.ResponseWriter, _ *http.Request) {
			code, err := fake.PhoneCode(fakeUser)
			if err != nil { // unreachable: the user is registered at start-up
				http.Error(w, "no test user", http.StatusInternalServerError)
				return
			}
			writeJSON(w, map[string]string{"phoneCode": code})
		})
	}
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // per-user answers: no cache may keep them
	_ = json.NewEncoder(w).Encode(v)
}

// logRequests logs one line a request: method, path (no query), status and
// duration. Headers and bodies, where tokens and codes travel, are not logged.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("took", time.Since(start)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
