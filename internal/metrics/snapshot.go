package metrics

import (
	"fmt"

	"github.com/bgsync/bgsync/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descSnapshotRows = newDesc("bgsync_snapshot_rows_total",
		"Rows the initial copy wrote into the target in this process, per source table.",
		"direction", "table")
	descSnapshotRunning = newDesc("bgsync_snapshot_running",
		"1 while the direction's initial copy runs, else 0.",
		"direction")
)

// RegisterSnapshot installs the initial copy's metrics for direction, read
// from p at every scrape.
func RegisterSnapshot(reg prometheus.Registerer, direction string, p *snapshot.Progress) error {
	if err := reg.Register(&snapshotMetrics{direction: direction, p: p}); err != nil {
		return fmt.Errorf("register snapshot metrics: %w", err)
	}
	return nil
}

type snapshotMetrics struct {
	direction string
	p         *snapshot.Progress
}

func (c *snapshotMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSnapshotRows
	ch <- descSnapshotRunning
}

func (c *snapshotMetrics) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Status()
	running := 0.0
	if s.Running {
		running = 1
	}
	ch <- constMetric(descSnapshotRunning, prometheus.GaugeValue, running, c.direction)
	for _, t := range s.Tables {
		ch <- constMetric(descSnapshotRows, prometheus.CounterValue, float64(t.Rows), c.direction, t.Table)
	}
}
