package metrics_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/internal/metrics"
	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func fakeStats() []pipeline.Stats {
	return []pipeline.Stats{
		{
			Direction: "blue-to-green", State: pipeline.StateRunning, Restarts: 2, ApplyRetries: 6, Unresolved: 3,
			ApplyErrors: 2, CapturedOps: [4]uint64{60, 30, 9, 1}, ApplyDuration: applied3(),
			Captured: 10, CapturedRows: 100, EchoDropped: 3, AppliedTxns: 9, SkippedTxns: 1,
			Inserted: 50, Updated: 30, Deleted: 15, Truncated: 1, Missing: 4,
			Conflicts: map[pipeline.ConflictKey]uint64{
				{Kind: "update_differs", Resolution: "source_wins"}: 5,
				{Kind: "insert_exists", Resolution: "manual"}:       1,
			},
			LastCommit: time.Unix(1700000000, 500_000_000),
			Lag:        1500 * time.Millisecond,
			CaptureLag: 250 * time.Millisecond, RetainedBytes: 1 << 20, Heartbeats: 42,
			DeadLettered: 5, DeadLetters: 2,
		},
		{Direction: "green-to-blue", State: pipeline.StatePaused, LastError: "transform failed", Restarts: 7, TransformErrors: 1},
	}
}

// gather returns every bgsync_ sample as `name{labels}` → value, and the
// type of each bgsync_ family.
func gather(t *testing.T, reg *prometheus.Registry) (map[string]float64, map[string]dto.MetricType) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	samples := map[string]float64{}
	types := map[string]dto.MetricType{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "bgsync_") {
			continue
		}
		types[mf.GetName()] = mf.GetType()
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				samples[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				samples[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				base := mf.GetName()
				lbl := strings.Join(labels, ",")
				samples[base+"_count{"+lbl+"}"] = float64(h.GetSampleCount())
				samples[base+"_sum{"+lbl+"}"] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					samples[fmt.Sprintf("%s_bucket{%s,le=%g}", base, lbl, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
			default:
				t.Fatalf("%s: unexpected type %v", key, mf.GetType())
			}
		}
	}
	return samples, types
}

func TestRegisterExportsStats(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, fakeStats, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	samples, types := gather(t, reg)

	want := map[string]float64{
		"bgsync_build_info{goversion=" + runtime.Version() + ",version=v1.2.3}": 1,

		"bgsync_replication_lag_seconds{direction=blue-to-green}":                                    1.5,
		"bgsync_capture_lag_seconds{direction=blue-to-green}":                                        0.25,
		"bgsync_source_retained_bytes{direction=blue-to-green}":                                      1 << 20,
		"bgsync_heartbeats_total{direction=blue-to-green}":                                           42,
		"bgsync_last_applied_commit_timestamp_seconds{direction=blue-to-green}":                      1700000000.5,
		"bgsync_direction_up{direction=blue-to-green}":                                               1,
		"bgsync_direction_restarts_total{direction=blue-to-green}":                                   2,
		"bgsync_apply_retries_total{direction=blue-to-green}":                                        6,
		"bgsync_unresolved_conflicts{direction=blue-to-green}":                                       3,
		"bgsync_direction_paused{direction=blue-to-green}":                                           0,
		"bgsync_transform_errors_total{direction=blue-to-green}":                                     0,
		"bgsync_dead_lettered_total{direction=blue-to-green}":                                        5,
		"bgsync_dead_letters_pending{direction=blue-to-green}":                                       2,
		"bgsync_transactions_captured_total{direction=blue-to-green}":                                10,
		"bgsync_rows_captured_total{direction=blue-to-green}":                                        100,
		"bgsync_transactions_applied_total{direction=blue-to-green}":                                 9,
		"bgsync_events_applied_total{direction=blue-to-green,op=insert}":                             50,
		"bgsync_events_applied_total{direction=blue-to-green,op=update}":                             30,
		"bgsync_events_applied_total{direction=blue-to-green,op=delete}":                             15,
		"bgsync_events_applied_total{direction=blue-to-green,op=truncate}":                           1,
		"bgsync_events_skipped_total{direction=blue-to-green,reason=echo}":                           3,
		"bgsync_events_skipped_total{direction=blue-to-green,reason=already_applied}":                1,
		"bgsync_events_skipped_total{direction=blue-to-green,reason=row_missing}":                    4,
		"bgsync_conflicts_total{direction=blue-to-green,kind=update_differs,resolution=source_wins}": 5,
		"bgsync_conflicts_total{direction=blue-to-green,kind=insert_exists,resolution=manual}":       1,

		// Not running, nothing applied: no last-commit timestamp, no
		// conflict series.
		"bgsync_replication_lag_seconds{direction=green-to-blue}":                     0,
		"bgsync_capture_lag_seconds{direction=green-to-blue}":                         0,
		"bgsync_source_retained_bytes{direction=green-to-blue}":                       0,
		"bgsync_heartbeats_total{direction=green-to-blue}":                            0,
		"bgsync_direction_up{direction=green-to-blue}":                                0,
		"bgsync_direction_restarts_total{direction=green-to-blue}":                    7,
		"bgsync_apply_retries_total{direction=green-to-blue}":                         0,
		"bgsync_unresolved_conflicts{direction=green-to-blue}":                        0,
		"bgsync_direction_paused{direction=green-to-blue}":                            1,
		"bgsync_transform_errors_total{direction=green-to-blue}":                      1,
		"bgsync_dead_lettered_total{direction=green-to-blue}":                         0,
		"bgsync_dead_letters_pending{direction=green-to-blue}":                        0,
		"bgsync_transactions_captured_total{direction=green-to-blue}":                 0,
		"bgsync_rows_captured_total{direction=green-to-blue}":                         0,
		"bgsync_transactions_applied_total{direction=green-to-blue}":                  0,
		"bgsync_events_applied_total{direction=green-to-blue,op=insert}":              0,
		"bgsync_events_applied_total{direction=green-to-blue,op=update}":              0,
		"bgsync_events_applied_total{direction=green-to-blue,op=delete}":              0,
		"bgsync_events_applied_total{direction=green-to-blue,op=truncate}":            0,
		"bgsync_events_skipped_total{direction=green-to-blue,reason=echo}":            0,
		"bgsync_events_skipped_total{direction=green-to-blue,reason=already_applied}": 0,
		"bgsync_events_skipped_total{direction=green-to-blue,reason=row_missing}":     0,
	}
	for _, dir := range []string{"blue-to-green", "green-to-blue"} {
		errs, retries, captured := 0.0, 0.0, [4]float64{}
		var apply pipeline.Histogram
		if dir == "blue-to-green" {
			errs, retries, captured = 2, 6, [4]float64{60, 30, 9, 1}
			apply.Observe(3 * time.Millisecond)
			apply.Observe(40 * time.Millisecond)
			apply.Observe(20 * time.Second)
		}
		want["bgsync_apply_errors_total{direction="+dir+"}"] = errs
		want["bgsync_apply_retries_total{direction="+dir+"}"] = retries
		for k, op := range []string{"insert", "update", "delete", "truncate"} {
			want["bgsync_events_captured_total{direction="+dir+",op="+op+"}"] = captured[k]
		}
		want["bgsync_apply_batch_duration_seconds_count{direction="+dir+"}"] = float64(apply.Count)
		want["bgsync_apply_batch_duration_seconds_sum{direction="+dir+"}"] = apply.Sum
		var cum uint64
		for i, le := range pipeline.ApplyBuckets {
			cum += apply.Counts[i]
			want[fmt.Sprintf("bgsync_apply_batch_duration_seconds_bucket{direction=%s,le=%g}", dir, le)] = float64(cum)
		}
	}
	if diff := cmp.Diff(want, samples); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}

	for name, typ := range types {
		wantType := dto.MetricType_GAUGE
		switch {
		case strings.HasSuffix(name, "_total"):
			wantType = dto.MetricType_COUNTER
		case name == "bgsync_apply_batch_duration_seconds":
			wantType = dto.MetricType_HISTOGRAM
		}
		if typ != wantType {
			t.Errorf("%s: type %v, want %v", name, typ, wantType)
		}
	}
}

func TestRegisterReadsStatsAtScrape(t *testing.T) {
	var stats []pipeline.Stats
	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, func() []pipeline.Stats { return stats }, "dev"); err != nil {
		t.Fatal(err)
	}
	if samples, _ := gather(t, reg); len(samples) != 1 { // build info only
		t.Errorf("no directions: got %d bgsync samples, want 1: %v", len(samples), samples)
	}
	stats = []pipeline.Stats{{Direction: "blue-to-green", State: pipeline.StateRunning, Inserted: 3}}
	samples, _ := gather(t, reg)
	if got := samples["bgsync_events_applied_total{direction=blue-to-green,op=insert}"]; got != 3 {
		t.Errorf("inserted after update = %v, want 3", got)
	}
}

func TestRegisterStandardCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, fakeStats, "dev"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if !have[name] {
			t.Errorf("%s not exported", name)
		}
	}
}

func TestRegisterTwiceFails(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, fakeStats, "dev"); err != nil {
		t.Fatal(err)
	}
	if err := metrics.Register(reg, fakeStats, "dev"); err == nil {
		t.Error("second Register on the same registry: want an error")
	}
}

func TestInvalidLabelIsAScrapeErrorNotAPanic(t *testing.T) {
	reg := prometheus.NewRegistry()
	bad := func() []pipeline.Stats { return []pipeline.Stats{{Direction: "bad\xff"}} }
	if err := metrics.Register(reg, bad, "dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err == nil {
		t.Error("gather with a non-UTF-8 label value: want an error")
	}
}

// applied3 is a histogram of three apply durations: 3 ms, 40 ms, 20 s.
func applied3() pipeline.Histogram {
	var h pipeline.Histogram
	for _, d := range []time.Duration{3 * time.Millisecond, 40 * time.Millisecond, 20 * time.Second} {
		h.Observe(d)
	}
	return h
}
