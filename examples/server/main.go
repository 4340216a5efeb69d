// Command server is a mini-program login server on net/http, for any mix of
// platforms and apps:
//
//	POST /api/login   session.LoginHandler: {appid, platform?, code, phone fields?} -> {token, expiresIn, openid, registered, userId?}
//	POST /api/phone   session.PhoneHandler, with the token: {phoneCode | phoneResponse | phoneEncryptedData+phoneIv} -> a new token that carries the user
//	POST /api/logout  session.LogoutHandler, with the token: 204
//	POST /api/logout/all  session.LogoutAllHandler, with the token: every session of the user ends, 204
//	GET  /api/me      behind session.Manager.Middleware: who the token belongs to, on which platform and app
//
// A login hook binds users to the app's own with package account
// (users.go): a silent login of an openid it does not know gets a token
// without a user ({"registered": false}); the phone, in the login or posted
// to /api/phone, binds the openid to the user of that phone number, or
// creates one, whatever the platform.
//
// The apps come from a JSON file (-apps apps.json) or the environment
// variable MINIAUTH_APPS, an array of {platform, appid, secretEnv, ...}
// (config.go says what each platform needs): secrets and keys are best
// given as the names of environment variables that hold them, and a
// mistake stops the server at start. Without a config, WX_APPID and
// WX_SECRET serve one WeChat app. With -fake it starts the fake of every
// configured platform inside the process (without a config, one fake
// WeChat app), with a test user each, adds GET /dev/code and GET
// /dev/phonecode (?appid=...: a fresh login code of the test user, and the
// phone fields of its platform) and prints curl commands that log in:
// anyone who can reach it can then log in as that user, so fake mode is
// never the default, and the server refuses to start with neither. Requests
// are logged with log/slog (method, path, status, duration: never a query
// string, a token or a secret; the apps by platform and appid only), and
// SIGINT or SIGTERM shut it down gracefully.
//
//	go run ./examples/server -fake -addr 127.0.0.1:8080
//	go run ./examples/server -fake -apps apps.json -addr 127.0.0.1:8080
//	WX_APPID=wx... WX_SECRET=... go run ./examples/server -addr 127.0.0.1:8080
//	MINIAUTH_APPS='[{"platform":"qq","appid":"1112345678","secretEnv":"QQ_SECRET"}]' QQ_SECRET=... go run ./examples/server
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
	fakeMode := fs.Bool("fake", false, "start an embedded fake of every configured platform, with a test user, instead of calling the platforms (development only: anyone can log in)")
	appsFile := fs.String("apps", "", "a JSON file of the apps to serve, [{platform, appid, secretEnv, ...}] (or the JSON in $"+appsEnv+"); without it, WX_APPID and WX_SECRET")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(out, nil))

	cfgs, err := readConfig(*appsFile, getenv)
	if err != nil {
		return err
	}
	wxID, wxSecret := getenv("WX_APPID"), getenv("WX_SECRET")
	switch {
	case cfgs != nil && (wxID != "" || wxSecret != ""):
		return errors.New("a config (-apps or " + appsEnv + ") and WX_APPID/WX_SECRET exclude each other: put the WeChat app in the config")
	case cfgs != nil:
	case *fakeMode && (wxID != "" || wxSecret != ""):
		return errors.New("-fake and WX_APPID/WX_SECRET exclude each other: unset them or drop -fake")
	case !*fakeMode && (wxID == "" || wxSecret == ""):
		return errors.New("set WX_APPID and WX_SECRET to talk to WeChat, or give the apps in -apps or " + appsEnv +
			", or pass -fake for the embedded fake WeChat (development only)")
	case *fakeMode:
		cfgs = []appConfig{{Platform: miniauth.WeChat, AppID: fakeAppID}}
	default:
		cfgs = []appConfig{{Platform: miniauth.WeChat, AppID: wxID, SecretEnv: "WX_SECRET"}}
	}
	var fakes devApps
	defer func() { fakes.closeAll() }()
	clients := make([]miniauth.Client, 0, len(cfgs))
	for _, c := range cfgs {
		base := ""
		if *fakeMode {
			dev, fc, err := startFake(c, fakeUser)
			if err != nil {
				return err
			}
			fakes = append(fakes, dev)
			c, base = fc, dev.url
		}
		cl, err := c.client(getenv, base, logger)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		clients = append(clients, cl)
		logger.Info("serving app", "platform", c.Platform, "appid", c.AppID) // never a key
	}
	apps, err := miniauth.NewApps(clients...)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if *fakeMode {
		logger.Warn("fake mode: the embedded fakes log anyone in; never expose this server")
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
		Handler:           logRequests(logger, routes(apps, sessions, fakes)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "url", base)
	if fakes != nil {
		printCurl(out, base, fakes)
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

// routes wires the login API of apps over a new, in-memory account store.
// fakes, in -fake mode, adds GET /dev/code and GET /dev/phonecode.
func routes(apps miniauth.Apps, sessions *session.Manager, fakes devApps) http.Handler {
	hook := session.WithOnLogin(loginHook())
	mux := http.NewServeMux()
	// The handlers answer other methods 405 themselves.
	mux.Handle("/api/login", session.LoginHandler(apps, sessions, hook))
	mux.Handle("/api/phone", session.PhoneHandler(apps, sessions, hook))
	mux.Handle("/api/logout", session.LogoutHandler(sessions))
	mux.Handle("/api/logout/all", session.LogoutAllHandler(sessions))
	mux.Handle("GET /api/me", sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := session.FromContext(r.Context())
		writeJSON(w, map[string]any{ // never the session_key
			"userId":    rec.Subject, // "" until the phone is bound
			"platform":  rec.Platform,
			"appid":     rec.AppID,
			"openid":    rec.OpenID,
			"unionid":   rec.UnionID,
			"issuedAt":  rec.IssuedAt,
			"expiresAt": rec.ExpiresAt,
		})
	})))
	if fakes != nil {
		// ?appid=...&platform=... picks the app; neither is needed when one
		// app is served.
		pick := func(w http.ResponseWriter, r *http.Request) *devApp {
			q := r.URL.Query()
			a, err := fakes.find(miniauth.Platform(q.Get("platform")), q.Get("appid"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return nil
			}
			return a
		}
		mux.HandleFunc("GET /dev/code", func(w http.ResponseWriter, r *http.Request) {
			if a := pick(w, r); a != nil {
				writeJSON(w, map[string]string{"appid": a.appID, "platform": string(a.platform), "code": a.code()})
			}
		})
		mux.HandleFunc("GET /dev/phonecode", func(w http.ResponseWriter, r *http.Request) {
			a := pick(w, r)
			if a == nil {
				return
			}
			if a.phone == nil {
				http.Error(w, string(a.platform)+" has no phone form", http.StatusNotFound)
				return
			}
			fields, err := a.phone()
			if err != nil { // Baidu and Kuaishou: no login yet, whose key seals the number
				http.Error(w, "no phone for the test user: get a login code first", http.StatusConflict)
				return
			}
			writeJSON(w, fields)
		})
	}
	return mux
}

// printCurl prints, for each fake app, a curl command that logs its test
// user in with a fresh code, then how to go on.
func printCurl(out io.Writer, base string, fakes devApps) {
	fmt.Fprintf(out, "\nLog in with a fresh fake code (each code works once; GET %s/dev/code?appid=... gives another):\n\n", base)
	for _, a := range fakes.sorted() {
		fmt.Fprintf(out, "  curl -s -X POST %s/api/login -d '{\"appid\":\"%s\",\"platform\":\"%s\",\"code\":\"%s\"}'\n",
			base, a.appID, a.platform, a.code())
	}
	fmt.Fprintf(out, "\nthen bind the phone (GET %s/dev/phonecode?appid=... gives the fields of the app's platform), read\n"+
		"/api/me and log out with the token it returns (/api/phone returns a new one):\n\n"+
		"  curl -s -X POST %s/api/phone -H 'Authorization: Bearer <token>' -d '<the phone fields>'\n"+
		"  curl -s %s/api/me -H 'Authorization: Bearer <token>'\n"+
		"  curl -s -X POST %s/api/logout -H 'Authorization: Bearer <token>'\n\n",
		base, base, base, base)
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
