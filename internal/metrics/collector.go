package metrics

import (
	"runtime"

	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/prometheus/client_golang/prometheus"
)

// snapshotCollector turns pipeline.Stats snapshots, taken at scrape time,
// into const metrics.
type snapshotCollector struct {
	stats func() []pipeline.Stats
	build prometheus.Metric
}

var _ prometheus.Collector = (*snapshotCollector)(nil)

func newSnapshotCollector(stats func() []pipeline.Stats, version string) *snapshotCollector {
	return &snapshotCollector{
		stats: stats,
		build: constMetric(descBuildInfo, prometheus.GaugeValue, 1, version, runtime.Version()),
	}
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range snapshotDescs {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- c.build
	for _, s := range c.stats() {
		collectDirection(ch, s)
	}
}

// collectDirection emits the metrics of one direction's snapshot.
func collectDirection(ch chan<- prometheus.Metric, s pipeline.Stats) {
	dir := s.Direction
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.GaugeValue, v, append([]string{dir}, labels...)...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- constMetric(d, prometheus.CounterValue, float64(v), append([]string{dir}, labels...)...)
	}

	gauge(descReplicationLag, s.Lag.Seconds())
	gauge(descCaptureLag, s.CaptureLag.Seconds())
	gauge(descRetainedBytes, float64(s.RetainedBytes))
	counter(descHeartbeats, s.Heartbeats)
	if !s.LastCommit.IsZero() {
		gauge(descLastAppliedCommit, float64(s.LastCommit.UnixNano())/1e9)
	}
	up := 0.0
	if s.State == pipeline.StateRunning {
		up = 1
	}
	gauge(descDirectionUp, up)
	counter(descDirectionRestarts, uint64(s.Restarts))
	counter(descApplyRetries, s.ApplyRetries)
	gauge(descUnresolved, float64(s.Unresolved))
	paused := 0.0
	if s.State == pipeline.StatePaused {
		paused = 1
	}
	gauge(descDirectionPaused, paused)
	counter(descTransformErrors, s.TransformErrors)
	counter(descDeadLettered, s.DeadLettered)
	gauge(descDeadLetters, float64(s.DeadLetters))

	counter(descApplyErrors, s.ApplyErrors)
	for k, op := range []string{opInsert, opUpdate, opDelete, opTruncate} {
		counter(descEventsCaptured, s.CapturedOps[k], op)
	}
	ch <- applyHistogram(s)
	counter(descTxnsCaptured, s.Captured)
	counter(descRowsCaptured, s.CapturedRows)
	counter(descTxnsApplied, s.AppliedTxns)
	counter(descEventsApplied, s.Inserted, opInsert)
	counter(descEventsApplied, s.Updated, opUpdate)
	counter(descEventsApplied, s.Deleted, opDelete)
	counter(descEventsApplied, s.Truncated, opTruncate)
	counter(descEventsSkipped, s.EchoDropped, reasonEcho)
	counter(descEventsSkipped, s.SkippedTxns, reasonAlreadyApplied)
	counter(descEventsSkipped, s.Missing, reasonRowMissing)
	for k, n := range s.Conflicts {
		counter(descConflicts, n, k.Kind, k.Resolution)
	}
}

// constMetric returns an invalid metric instead of panicking on bad label
// values: the scrape reports the error, the process keeps running.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// applyHistogram emits the direction's apply durations.
func applyHistogram(s pipeline.Stats) prometheus.Metric {
	h := s.ApplyDuration
	buckets := make(map[float64]uint64, len(pipeline.ApplyBuckets))
	var cum uint64
	for i, le := range pipeline.ApplyBuckets {
		cum += h.Counts[i]
		buckets[le] = cum
	}
	m, err := prometheus.NewConstHistogram(descApplyDuration, h.Count, h.Sum, buckets, s.Direction)
	if err != nil {
		return prometheus.NewInvalidMetric(descApplyDuration, err)
	}
	return m
}
