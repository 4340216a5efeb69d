package miniauthotel_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wxmp/miniauth"
	miniauthotel "github.com/wxmp/miniauth/otel"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"github.com/wxmp/miniauth/wxauth/wxauthtest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const appID, secret = "wx0123456789abcdef", "app-secret-0123456789"

// rig is a login backend observed into in-memory exporters.
type rig struct {
	srv     *wxauthtest.Server
	app     *wxauth.App
	store   *flakyStore
	m       *session.Manager
	login   http.Handler
	spans   *tracetest.SpanRecorder
	reader  *sdkmetric.ManualReader
	clock   *wxauthtest.Clock
	secrets []string // what no attribute may show
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	obs, err := miniauthotel.NewObserver(miniauthotel.WithTracerProvider(tp), miniauthotel.WithMeterProvider(mp))
	require.NoError(t, err)
	r.srv = wxauthtest.NewServer(appID, secret)
	t.Cleanup(r.srv.Close)
	r.app, err = wxauth.New(appID, secret, wxauth.WithBaseURL(r.srv.URL), wxauth.WithObserver(obs))
	require.NoError(t, err)
	mem, err := session.NewMemoryStore()
	require.NoError(t, err)
	r.store = &flakyStore{Store: mem}
	r.clock = wxauthtest.NewClock(time.Now())
	r.m = session.NewManager(r.store, session.WithObserver(obs), session.WithClock(r.clock.Now))
	require.NoError(t, r.m.Err())
	r.login = session.LoginHandler(r.app, r.m)
	r.secrets = []string{secret}
	return r
}

// flakyStore fails with session.ErrStoreUnavailable while down is set.
type flakyStore struct {
	session.Store
	down atomic.Bool
}

func (s *flakyStore) Get(ctx context.Context, key string) (*session.Record, error) {
	if s.down.Load() {
		return nil, session.ErrStoreUnavailable
	}
	return s.Store.Get(ctx, key)
}

func (s *flakyStore) Put(ctx context.Context, key string, rec *session.Record, ttl time.Duration) error {
	if s.down.Load() {
		return session.ErrStoreUnavailable
	}
	return s.Store.Put(ctx, key, rec, ttl)
}

// postLogin posts a login with code and returns the answer's status.
func (r *rig) postLogin(t *testing.T, code string) int {
	t.Helper()
	r.secrets = append(r.secrets, code)
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.login.ServeHTTP(w, req)
	var answer struct {
		Token  string `json:"token"`
		OpenID string `json:"openid"`
	}
	if w.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &answer))
		require.NotEmpty(t, answer.Token)
		r.secrets = append(r.secrets, answer.Token, answer.OpenID)
	}
	return w.Code
}

// spanNamed returns the ended spans named name.
func (r *rig) spansNamed(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range r.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// metrics collects the metrics, keyed by name.
func (r *rig) metrics(t *testing.T) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// sum returns the sum of the counter name's points whose attributes
// include want.
func sum(t *testing.T, ms map[string]metricdata.Aggregation, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	s, ok := ms[name].(metricdata.Sum[int64])
	if !ok {
		return 0
	}
	var n int64
	for _, p := range s.DataPoints {
		if hasAll(p.Attributes, want) {
			n += p.Value
		}
	}
	return n
}

// count returns the count of the histogram name's points whose attributes
// include want.
func count(t *testing.T, ms map[string]metricdata.Aggregation, name string, want ...attribute.KeyValue) uint64 {
	t.Helper()
	h, ok := ms[name].(metricdata.Histogram[float64])
	if !ok {
		return 0
	}
	var n uint64
	for _, p := range h.DataPoints {
		if hasAll(p.Attributes, want) {
			n += p.Count
		}
	}
	return n
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// assertNoSecret checks that no span attribute, event or status and no
// metric attribute shows a secret, a code, a token, an openid or a phone.
func (r *rig) assertNoSecret(t *testing.T, extra ...string) {
	t.Helper()
	bad := append(append([]string{}, r.secrets...), extra...)
	check := func(where, v string) {
		for _, s := range bad {
			if s != "" {
				assert.NotContains(t, v, s, "%s shows a secret", where)
			}
		}
	}
	for _, s := range r.spans.Ended() {
		check("span name", s.Name())
		check("span status", s.Status().Description)
		for _, a := range s.Attributes() {
			check("span attribute "+string(a.Key), a.Value.String())
		}
		for _, e := range s.Events() {
			for _, a := range e.Attributes {
				check("span event attribute "+string(a.Key), a.Value.String())
			}
		}
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var sets []attribute.Set
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			}
			for _, set := range sets {
				for _, a := range set.ToSlice() {
					check("metric "+m.Name+" attribute "+string(a.Key), a.Value.String())
				}
			}
		}
	}
}

func attrsOf(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		out[a.Key] = a.Value
	}
	return out
}

func TestLogin(t *testing.T) {
	r := newRig(t)
	openID := r.srv.AddUser(wxauthtest.User{})
	require.Equal(t, http.StatusOK, r.postLogin(t, r.srv.Login(openID)))

	spans := r.spansNamed("code2session")
	require.Len(t, spans, 1)
	a := attrsOf(spans[0])
	assert.Equal(t, "wechat", a["miniauth.platform"].AsString())
	assert.Equal(t, "code2session", a["miniauth.api"].AsString())
	assert.Equal(t, "GET", a["http.request.method"].AsString())
	assert.Equal(t, "127.0.0.1", a["server.address"].AsString())
	assert.Equal(t, int64(200), a["http.response.status_code"].AsInt64())
	assert.Equal(t, int64(1), a["miniauth.attempts"].AsInt64())
	assert.NotContains(t, a, attribute.Key("miniauth.errcode"))
	assert.Equal(t, "Unset", spans[0].Status().Code.String())

	ms := r.metrics(t)
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.logins", attribute.String("miniauth.op", "login"),
		attribute.String("miniauth.outcome", "ok"), attribute.String("miniauth.platform", "wechat")))
	assert.Equal(t, uint64(1), count(t, ms, "http.client.request.duration", attribute.String("miniauth.api", "code2session"),
		attribute.Int("http.response.status_code", 200)))
	assert.Equal(t, uint64(1), count(t, ms, "miniauth.api.call.duration", attribute.String("miniauth.api", "code2session")))
	r.assertNoSecret(t, openID)
}

func TestRefusedCode(t *testing.T) {
	r := newRig(t)
	openID := r.srv.AddUser(wxauthtest.User{})
	code := r.srv.Login(openID)
	require.Equal(t, http.StatusOK, r.postLogin(t, code))
	require.Equal(t, http.StatusUnauthorized, r.postLogin(t, code)) // spent: 40163

	spans := r.spansNamed("code2session")
	require.Len(t, spans, 2)
	a := attrsOf(spans[1])
	assert.Equal(t, "40163", a["miniauth.errcode"].AsString())
	assert.Equal(t, "code_used", a["error.type"].AsString())
	assert.Equal(t, "Error", spans[1].Status().Code.String())
	assert.Equal(t, "code_used", spans[1].Status().Description)

	ms := r.metrics(t)
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.logins", attribute.String("miniauth.outcome", "ok")))
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.logins", attribute.Int("http.response.status_code", 401)))
	assert.Equal(t, uint64(1), count(t, ms, "miniauth.api.call.duration", attribute.String("miniauth.errcode", "40163"),
		attribute.String("error.type", "code_used")))
	r.assertNoSecret(t, openID)
}

func TestTokenRefresh(t *testing.T) {
	r := newRig(t)
	openID := r.srv.AddUser(wxauthtest.User{PurePhoneNumber: "13912345678"})
	code, err := r.srv.PhoneCode(openID)
	require.NoError(t, err)
	r.secrets = append(r.secrets, code)
	_, err = r.app.GetPhoneNumber(context.Background(), code)
	require.NoError(t, err)
	r.secrets = append(r.secrets, r.srv.AccessToken())

	ms := r.metrics(t)
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.token.refreshes", attribute.String("miniauth.platform", "wechat"),
		attribute.Bool("miniauth.token.fetched", true)))
	assert.Equal(t, int64(0), sum(t, ms, "miniauth.token.refreshes", attribute.String("error.type", "invalid_credential")))
	require.Len(t, r.spansNamed("stable_token"), 1)
	require.Len(t, r.spansNamed("getuserphonenumber"), 1)

	// A refresh that fails: WeChat refuses the app's credentials.
	r2 := newRig(t)
	require.NoError(t, r2.srv.FailNext("/cgi-bin/stable_token", 40125))
	_, err = r2.app.GetPhoneNumber(context.Background(), "any-phone-code")
	require.Error(t, err)
	ms = r2.metrics(t)
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.token.refreshes", attribute.String("error.type", "invalid_credential")))
	r.assertNoSecret(t, openID, "13912345678")
	r2.assertNoSecret(t, "any-phone-code")
}

func TestStoreOutage(t *testing.T) {
	r := newRig(t)
	openID := r.srv.AddUser(wxauthtest.User{})
	r.store.down.Store(true)
	// The first login probes the store (it has not answered lately), which
	// fails: the outage is seen, and the login refused before its code is
	// spent. The next is refused at once, its code kept too.
	require.Equal(t, http.StatusServiceUnavailable, r.postLogin(t, r.srv.Login(openID)))
	require.Equal(t, http.StatusServiceUnavailable, r.postLogin(t, r.srv.Login(openID)))

	ms := r.metrics(t)
	dep := attribute.String("miniauth.dependency", "session store")
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.dependency.outages", dep))
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.dependency.down", dep))
	assert.Equal(t, int64(2), sum(t, ms, "miniauth.logins", attribute.String("miniauth.outcome", "store_unavailable")))
	assert.Equal(t, int64(2), sum(t, ms, "miniauth.login.codes_kept", attribute.String("miniauth.op", "login")))
	assert.Empty(t, r.spansNamed("code2session"), "the kept codes never reached WeChat")

	// The store answers again: the next login after the probe interval
	// probes it and goes through.
	r.store.down.Store(false)
	r.clock.Advance(2 * time.Second)
	require.Equal(t, http.StatusOK, r.postLogin(t, r.srv.Login(openID)))
	ms = r.metrics(t)
	assert.Equal(t, int64(0), sum(t, ms, "miniauth.dependency.down", dep))
	assert.Equal(t, int64(1), sum(t, ms, "miniauth.dependency.outages", dep))
	r.assertNoSecret(t, openID)
}

func TestNewObserverOptions(t *testing.T) {
	_, err := miniauthotel.NewObserver(miniauthotel.WithTracerProvider(nil))
	assert.ErrorContains(t, err, "miniauthotel: tracer provider must not be nil")
	_, err = miniauthotel.NewObserver(miniauthotel.WithMeterProvider(nil))
	assert.ErrorContains(t, err, "miniauthotel: meter provider must not be nil")
	o, err := miniauthotel.NewObserver()
	require.NoError(t, err)
	for name, f := range map[string]any{"CallStart": o.CallStart, "CallEnd": o.CallEnd, "HTTPRequest": o.HTTPRequest,
		"TokenRefresh": o.TokenRefresh, "Login": o.Login, "Outage": o.Outage} {
		assert.NotNil(t, f, name)
	}
}

func TestErrorType(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{miniauth.ErrInvalidCode, "invalid_code"},
		{wxauth.ErrCodeUsed, "code_used"},
		{context.DeadlineExceeded, "timeout"},
		{http.ErrHandlerTimeout, "_OTHER"},
	} {
		assert.Equal(t, tc.want, miniauthotel.ErrorType(tc.err), "%v", tc.err)
	}
}

func TestConcurrentLogins(t *testing.T) {
	r := newRig(t)
	openID := r.srv.AddUser(wxauthtest.User{})
	const n = 50
	codes := make([]string, n)
	for i := range codes {
		codes[i] = r.srv.Login(openID)
	}
	var wg sync.WaitGroup
	for _, code := range codes {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"`+code+`"}`))
			w := httptest.NewRecorder()
			r.login.ServeHTTP(w, req)
			assert.Equal(t, http.StatusOK, w.Code)
		})
	}
	wg.Wait()
	assert.Len(t, r.spansNamed("code2session"), n)
	ms := r.metrics(t)
	assert.Equal(t, int64(n), sum(t, ms, "miniauth.logins", attribute.String("miniauth.outcome", "ok")))
	assert.Equal(t, uint64(n), count(t, ms, "http.client.request.duration", attribute.String("miniauth.api", "code2session")))
	r.secrets = append(r.secrets, codes...)
	r.assertNoSecret(t, openID)
}
