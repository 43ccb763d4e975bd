package httpapi

import (
	"net/http"

	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configures NewHandler.
type Options struct {
	// Gatherer is served on /metrics. Required.
	Gatherer prometheus.Gatherer
	// Stats returns a snapshot of every direction. Required; called from
	// request goroutines.
	Stats func() []pipeline.Stats
	// Scrub removes secrets from error text before it is served. Nil
	// serves error text as it is.
	Scrub func(string) string
	// Token, if not empty, is the bearer token every endpoint except
	// /livez and /readyz requires.
	Token string
	// Version is reported by /v1/status.
	Version string
	// Gate configures /v1/gate/* and /v1/flagger/*.
	Gate GateOptions
	// Snapshot, when set, reports the initial copy in /v1/status.
	Snapshot func() *SnapshotStatus
}

// NewHandler returns the handler of every endpoint.
func NewHandler(opts Options) http.Handler {
	if opts.Scrub == nil {
		opts.Scrub = func(s string) string { return s }
	}
	auth := requireToken(opts.Token)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", auth(promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{})))
	mux.HandleFunc("GET /livez", livez)
	mux.Handle("GET /readyz", readyz(opts))
	mux.Handle("GET /healthz", auth(readyz(opts)))
	mux.Handle("GET /v1/status", auth(status(opts)))
	mux.Handle("GET /v1/gate/{gate}", auth(gateJSON(opts)))
	mux.Handle("POST /v1/flagger/{gate}", auth(flagger(opts)))
	return mux
}
