package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bgsync/bgsync/gate"
	"github.com/bgsync/bgsync/internal/buildinfo"
	"github.com/bgsync/bgsync/internal/httpapi"
	"github.com/bgsync/bgsync/internal/metrics"
	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/prometheus/client_golang/prometheus"
)

// httpTokenEnv holds the bearer token of the HTTP endpoints (all but
// /livez and /readyz); unset or empty serves them without one.
const httpTokenEnv = "BGSYNC_HTTP_TOKEN"

// httpShutdownTimeout bounds how long stop waits for requests in flight.
const httpShutdownTimeout = 5 * time.Second

// startHTTP serves metrics, health and status for dirs on http.listen; an
// empty address serves nothing. A listen failure is a usage error.
func (a *app) startHTTP(dirs []*pipeline.Direction) (stop func(), err error) {
	addr := a.cfg.HTTP.Listen
	if addr == "" {
		return func() {}, nil
	}
	stats := func() []pipeline.Stats {
		out := make([]pipeline.Stats, 0, len(dirs))
		for _, d := range dirs {
			out = append(out, d.Stats())
		}
		return out
	}
	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, stats, buildinfo.Version); err != nil {
		return nil, err
	}
	token := strings.TrimSpace(os.Getenv(httpTokenEnv))
	verifies := &verifyCache{read: a.lastVerify}
	opts := httpapi.Options{
		Gatherer: reg,
		Stats:    stats,
		Scrub:    scrubAll,
		Token:    token,
		Version:  buildinfo.Version,
		Gate:     httpapi.GateOptions{Thresholds: a.gateThresholds(), LastVerify: verifies.get},
	}
	if err := metrics.RegisterGates(reg, metrics.Gates{
		Safe: func(kind string) bool {
			return httpapi.Decide(context.Background(), opts, gate.Kind(kind), opts.Gate.Thresholds).Safe
		},
		LastVerify: func() gate.Verify {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			v, _ := verifies.get(ctx)
			return v
		},
	}); err != nil {
		return nil, err
	}
	if p := a.snapProgress; p != nil {
		dir := directionName(a.cfg.Snapshot.From, a.cfg.Snapshot.From.Other())
		if err := metrics.RegisterSnapshot(reg, dir, p); err != nil {
			return nil, err
		}
		opts.Snapshot = func() *httpapi.SnapshotStatus {
			return &httpapi.SnapshotStatus{Direction: dir, Status: p.Status()}
		}
	}
	h := httpapi.NewHandler(opts)
	srv, err := httpapi.Listen(addr, h, a.log)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("%w (set http.listen or BGSYNC_HTTP_LISTEN)", err))
	}
	a.log.Info("http server listening", "addr", srv.Addr(), "token_required", token != "")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			a.log.Warn("http server shutdown", "error", err.Error())
		}
	}, nil
}
