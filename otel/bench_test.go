package miniauthotel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wxmp/miniauth/wxauth"

	miniauthotel "github.com/wxmp/miniauth/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// c2sReply is a jscode2session success, as text/plain like WeChat's.
const c2sReply = `{"session_key":"AAAAAAAAAAAAAAAAAAAAAA==","openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE"}`

// BenchmarkCode2Session measures what the observer adds to a call: none,
// and the OpenTelemetry one recording into in-memory exporters, side by
// side in one run, against a loopback server that answers every code.
func BenchmarkCode2Session(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, c2sReply)
	}))
	defer srv.Close()
	obs, err := miniauthotel.NewObserver(
		miniauthotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))),
		miniauthotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts []wxauth.Option
	}{
		{"none", nil},
		{"otel", []wxauth.Option{wxauth.WithObserver(obs)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			app, err := wxauth.New(appID, secret, append(bc.opts, wxauth.WithBaseURL(srv.URL))...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for b.Loop() {
				if _, err := app.Code2Session(ctx, "0c3Kqmll2OMkqf4bx8ol2ZWFWW3Kqmlr"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
