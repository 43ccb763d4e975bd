package metrics_test

import (
	"testing"
	"time"

	"github.com/bgsync/bgsync/gate"
	"github.com/bgsync/bgsync/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

func TestGateMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	var last gate.Verify
	if err := metrics.RegisterGates(reg, metrics.Gates{
		Safe:       func(g string) bool { return g == "rollback" },
		LastVerify: func() gate.Verify { return last },
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
	last = gate.Verify{Known: true, LastConsistent: time.Unix(1700000000, 0), Tables: []gate.TableRows{
		{Table: "public.orders", Rows: map[string]int64{"matched": 990, "different": 3, "in_flight": 7}},
	}}
	got, _ = gather(t, reg)
	if got["bgsync_verify_last_success_timestamp_seconds{}"] != 1700000000 {
		t.Fatalf("last success: %v", got)
	}
	for class, want := range map[string]float64{"matched": 990, "different": 3, "in_flight": 7} {
		if k := "bgsync_verify_rows{class=" + class + ",table=public.orders}"; got[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], want, got)
		}
	}
}
