package metrics_test

import (
	"testing"
	"time"

	"github.com/bgsync/bgsync/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

func TestGateMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	last := time.Time{}
	if err := metrics.RegisterGates(reg, metrics.Gates{
		Safe:        func(g string) bool { return g == "rollback" },
		LastSuccess: func() time.Time { return last },
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := gather(t, reg)
	if got["bgsync_gate_safe{gate=cutover}"] != 0 || got["bgsync_gate_safe{gate=rollback}"] != 1 {
		t.Fatalf("gate_safe: %v", got)
	}
	if _, ok := got["bgsync_verify_last_success_timestamp_seconds{}"]; ok {
		t.Fatal("last success reported before any consistent verify")
	}
	last = time.Unix(1700000000, 0)
	got, _ = gather(t, reg)
	if got["bgsync_verify_last_success_timestamp_seconds{}"] != 1700000000 {
		t.Fatalf("last success: %v", got)
	}
}
