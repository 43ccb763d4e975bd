package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Gates reads, at scrape time, what the gate metrics report.
type Gates struct {
	// Safe reports whether gate ("cutover", "rollback") passes now.
	Safe func(gate string) bool
	// LastSuccess is when the last consistent verify finished (zero:
	// none recorded, or it cannot be read).
	LastSuccess func() time.Time
}

// RegisterGates installs bgsync_gate_safe{gate} and
// bgsync_verify_last_success_timestamp_seconds on reg.
func RegisterGates(reg prometheus.Registerer, g Gates) error {
	return reg.Register(&gateCollector{g: g})
}

type gateCollector struct{ g Gates }

func (c *gateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descGateSafe
	ch <- descVerifyLastSuccess
}

func (c *gateCollector) Collect(ch chan<- prometheus.Metric) {
	for _, gate := range []string{"cutover", "rollback"} {
		v := 0.0
		if c.g.Safe(gate) {
			v = 1
		}
		ch <- constMetric(descGateSafe, prometheus.GaugeValue, v, gate)
	}
	if t := c.g.LastSuccess(); !t.IsZero() {
		ch <- constMetric(descVerifyLastSuccess, prometheus.GaugeValue, float64(t.UnixNano())/1e9)
	}
}
