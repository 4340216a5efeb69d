package wxauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wxmp/miniauth/internal/testutil"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

// BenchmarkAuthorizerCode2Session measures a component's login of an
// authorizer's user (AuthorizerApp.Code2Session: the authorizer check, the
// cached component token, the query with it) against App.Code2Session
// ("ratioApp": what a third-party platform's login costs over a plain
// app's) and against floorCode2Session ("ratioFloor"), all three calling
// the same loopback server in the same run, interleaved.
func BenchmarkAuthorizerCode2Session(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/cgi-bin/component/api_component_token" {
			_, _ = io.WriteString(w, `{"component_access_token":"`+strings.Repeat("T", 100)+`","expires_in":7200}`)
			return
		}
		if r.URL.Query().Get("js_code") == "" {
			http.Error(w, "no code", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, c2sReply)
	}))
	b.Cleanup(srv.Close)
	key := wxauthtest.NewEncodingAESKey()
	comp, err := wxauth.NewComponent(compAppID, compSecret, compToken, key, wxauth.WithBaseURL(srv.URL),
		wxauth.WithAuthorizerCheck(func(context.Context, string) (bool, error) { return true, nil }))
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("<xml><AppId>" + compAppID + "</AppId><CreateTime>" + strconv.FormatInt(time.Now().Unix(), 10) + "</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>ticket@@@bench</ComponentVerifyTicket></xml>")
	q, body, err := wxauthtest.SealPush(compToken, key, compAppID, msg, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	comp.TicketHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?"+q.Encode(), strings.NewReader(string(body))))
	if rec.Code != http.StatusOK {
		b.Fatalf("push: %d", rec.Code)
	}
	app, err := wxauth.New(testAppID, testSecret, wxauth.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	floorClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.Cleanup(floorClient.CloseIdleConnections)
	ctx := context.Background()
	component := func() error {
		c, err := comp.App(ctx, authAppID)
		if err != nil {
			return err
		}
		_, err = c.Code2Session(ctx, testCode)
		return err
	}
	plain := func() error { _, err := app.Code2Session(ctx, testCode); return err }
	floor := func() error {
		_, err := floorCode2Session(ctx, floorClient, srv.URL, testAppID, testSecret, testCode)
		return err
	}
	if err := component(); err != nil {
		b.Fatal(err)
	}
	b.Run("Component", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := component(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ratioApp", func(b *testing.B) { testutil.CompareToFloor(b, 5, component, plain) })
	b.Run("ratioFloor", func(b *testing.B) { testutil.CompareToFloor(b, 5, component, floor) })
}
