package miniauthotel_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	miniauthotel "github.com/wxmp/miniauth/otel"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
	"go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// A login backend whose metrics Prometheus scrapes at /metrics: WeChat's
// latency and errcodes per API, logins per outcome, token refreshes, store
// outages and the codes kept while the store was down. Traces go to the
// global tracer provider (set one with otel.SetTracerProvider).
func ExampleNewObserver() {
	exporter, err := prometheus.New() // registers with prometheus.DefaultRegisterer
	if err != nil {
		log.Fatal(err)
	}
	obs, err := miniauthotel.NewObserver(
		miniauthotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))))
	if err != nil {
		log.Fatal(err)
	}
	app, err := wxauth.New("wx0123456789abcdef", "app-secret", wxauth.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	store, err := session.NewMemoryStore()
	if err != nil {
		log.Fatal(err)
	}
	m := session.NewManager(store, session.WithObserver(obs))

	mux := http.NewServeMux()
	mux.Handle("POST /login", session.LoginHandler(app, m))
	mux.Handle("GET /metrics", promhttp.Handler())
	_ = mux // http.ListenAndServe(":8080", mux)
	// Output:
}
