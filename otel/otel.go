package miniauthotel

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/wxmp/miniauth"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/wxmp/miniauth/otel"

// Attribute keys of miniauth's own, beside the semantic conventions'.
const (
	PlatformKey   = attribute.Key("miniauth.platform")      // PlatformKey is the platform ("wechat").
	APIKey        = attribute.Key("miniauth.api")           // APIKey is the platform API called ("code2session").
	AttemptsKey   = attribute.Key("miniauth.attempts")      // AttemptsKey counts a call's HTTP requests.
	ErrCodeKey    = attribute.Key("miniauth.errcode")       // ErrCodeKey is the platform's error code of a refused call.
	OpKey         = attribute.Key("miniauth.op")            // OpKey is the handler of a login: "login" or "phone".
	OutcomeKey    = attribute.Key("miniauth.outcome")       // OutcomeKey is "ok" or a refusal's machine code.
	FetchedKey    = attribute.Key("miniauth.token.fetched") // FetchedKey says whether a refresh fetched the token.
	DependencyKey = attribute.Key("miniauth.dependency")    // DependencyKey names a login-path dependency.
)

// Option configures [NewObserver].
type Option func(*config) error

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets the tracer provider (default: the global one,
// otel.GetTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		if tp == nil {
			return errors.New("miniauthotel: tracer provider must not be nil")
		}
		c.tp = tp
		return nil
	}
}

// WithMeterProvider sets the meter provider (default: the global one,
// otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return errors.New("miniauthotel: meter provider must not be nil")
		}
		c.mp = mp
		return nil
	}
}

// durationBuckets are the bucket boundaries, in seconds, that the semantic
// conventions advise for http.client.request.duration
// (https://opentelemetry.io/docs/specs/semconv/http/http-metrics/).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

type recorder struct {
	tracer       trace.Tracer
	httpDuration metric.Float64Histogram
	callDuration metric.Float64Histogram
	logins       metric.Int64Counter
	codesKept    metric.Int64Counter
	refreshes    metric.Int64Counter
	outages      metric.Int64Counter
	down         metric.Int64UpDownCounter
}

// NewObserver returns an observer that records miniauth's calls, logins,
// token refreshes and outages as spans and metrics (see the package
// documentation for their names). Hand the same one to every client and
// Manager of a process.
func NewObserver(opts ...Option) (*miniauth.Observer, error) {
	cfg := config{tp: otel.GetTracerProvider(), mp: otel.GetMeterProvider()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	m := cfg.mp.Meter(ScopeName)
	r := &recorder{tracer: cfg.tp.Tracer(ScopeName)}
	var errs [7]error
	r.httpDuration, errs[0] = m.Float64Histogram("http.client.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of HTTP client requests."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	r.callDuration, errs[1] = m.Float64Histogram("miniauth.api.call.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of calls to a platform's API, retries included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	r.logins, errs[2] = m.Int64Counter("miniauth.logins",
		metric.WithUnit("{request}"), metric.WithDescription("Requests to the login and phone handlers, by outcome."))
	r.codesKept, errs[3] = m.Int64Counter("miniauth.login.codes_kept",
		metric.WithUnit("{request}"), metric.WithDescription("Logins refused before spending their code because a dependency was down."))
	r.refreshes, errs[4] = m.Int64Counter("miniauth.token.refreshes",
		metric.WithUnit("{refresh}"), metric.WithDescription("Refreshes of an app's access token; failed ones carry error.type."))
	r.outages, errs[5] = m.Int64Counter("miniauth.dependency.outages",
		metric.WithUnit("{outage}"), metric.WithDescription("Outages of a login-path dependency."))
	r.down, errs[6] = m.Int64UpDownCounter("miniauth.dependency.down",
		metric.WithUnit("{dependency}"), metric.WithDescription("1 while a login-path dependency is down."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, errors.Join(errors.New("miniauthotel: creating instruments"), err)
	}
	return &miniauth.Observer{
		CallStart:    r.callStart,
		CallEnd:      r.callEnd,
		HTTPRequest:  r.httpRequest,
		TokenRefresh: r.tokenRefresh,
		Login:        r.login,
		Outage:       r.outage,
	}, nil
}

func (r *recorder) callStart(ctx context.Context, c *miniauth.Call) context.Context {
	attrs := append(callAttrs(c), semconv.HTTPRequestMethodKey.String(c.Method))
	attrs = append(attrs, serverAttrs(c.Server)...)
	ctx, _ = r.tracer.Start(ctx, c.API, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(c.Start), trace.WithAttributes(attrs...))
	return ctx
}

func (r *recorder) callEnd(ctx context.Context, c *miniauth.Call) {
	attrs := callAttrs(c)
	if c.Code != "" {
		attrs = append(attrs, ErrCodeKey.String(c.Code))
	}
	if c.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(ErrorType(c.Err)))
	}
	r.callDuration.Record(ctx, time.Since(c.Start).Seconds(), metric.WithAttributes(attrs...))
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attrs...)
	span.SetAttributes(AttemptsKey.Int(c.Attempts))
	if c.Status != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(c.Status))
	}
	if c.Err != nil {
		// The class of the error, never its text: the text of a refusal
		// may quote what the user sent.
		span.SetStatus(codes.Error, ErrorType(c.Err))
	}
	span.End()
}

func (r *recorder) httpRequest(ctx context.Context, q *miniauth.HTTPRequest) {
	attrs := append(callAttrs(q.Call), semconv.HTTPRequestMethodKey.String(q.Call.Method))
	attrs = append(attrs, serverAttrs(q.Call.Server)...)
	switch {
	case q.Status != 0:
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(q.Status))
		if q.Status >= 400 {
			attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(q.Status)))
		}
	case q.Err != nil:
		attrs = append(attrs, semconv.ErrorTypeKey.String(ErrorType(q.Err)))
	}
	r.httpDuration.Record(ctx, q.Duration.Seconds(), metric.WithAttributes(attrs...))
}

func (r *recorder) tokenRefresh(ctx context.Context, t *miniauth.TokenRefresh) {
	attrs := []attribute.KeyValue{PlatformKey.String(string(t.Platform)), FetchedKey.Bool(t.Fetched)}
	if t.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(ErrorType(t.Err)))
	}
	r.refreshes.Add(ctx, 1, metric.WithAttributes(attrs...))
}

func (r *recorder) login(ctx context.Context, l *miniauth.Login) {
	attrs := metric.WithAttributes(OpKey.String(l.Op), OutcomeKey.String(l.Outcome),
		semconv.HTTPResponseStatusCodeKey.Int(l.Status), PlatformKey.String(string(l.Platform)))
	r.logins.Add(ctx, 1, attrs)
	if l.CodeKept {
		r.codesKept.Add(ctx, 1, metric.WithAttributes(OpKey.String(l.Op)))
	}
}

func (r *recorder) outage(ctx context.Context, o *miniauth.Outage) {
	attrs := metric.WithAttributes(DependencyKey.String(o.Dependency))
	if o.Down {
		r.outages.Add(ctx, 1, attrs)
		r.down.Add(ctx, 1, attrs)
		return
	}
	r.down.Add(ctx, -1, attrs)
}

// callAttrs returns the attributes every span and metric of c carries.
func callAttrs(c *miniauth.Call) []attribute.KeyValue {
	return []attribute.KeyValue{PlatformKey.String(string(c.Platform)), APIKey.String(c.API)}
}

// serverAttrs returns server.address and server.port of a base URL.
func serverAttrs(server string) []attribute.KeyValue {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return []attribute.KeyValue{semconv.ServerAddressKey.String(host)}
	}
	return []attribute.KeyValue{semconv.ServerAddressKey.String(host), semconv.ServerPortKey.Int(p)}
}

// errorTypes are the classes [ErrorType] tells, in the order it tests them.
var errorTypes = []struct {
	err  error
	name string
}{
	{miniauth.ErrInvalidCode, "invalid_code"},
	{miniauth.ErrCodeUsed, "code_used"},
	{miniauth.ErrRateLimited, "rate_limited"},
	{miniauth.ErrSystemBusy, "system_busy"},
	{miniauth.ErrInvalidCredential, "invalid_credential"},
	{miniauth.ErrInvalidPhoneCode, "invalid_phone_code"},
	{miniauth.ErrNotAllowed, "not_allowed"},
	{miniauth.ErrQuotaExceeded, "quota_exceeded"},
	{miniauth.ErrHighRisk, "high_risk"},
	{miniauth.ErrSessionKeyExpired, "session_key_expired"},
	{miniauth.ErrRequestRejected, "request_rejected"},
	{miniauth.ErrBadResponse, "bad_response"},
	{context.DeadlineExceeded, "timeout"},
	{context.Canceled, "canceled"},
}

// ErrorType returns the class of err as the error.type attribute says it:
// the snake-case name of the miniauth sentinel it matches ("invalid_code",
// "bad_response"), "timeout" or "canceled", or "_OTHER". It never returns
// the error's text.
func ErrorType(err error) string {
	for _, t := range errorTypes {
		if errors.Is(err, t.err) {
			return t.name
		}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return "timeout"
		}
		return "network"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}
