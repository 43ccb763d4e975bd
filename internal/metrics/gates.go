package metrics

import (
	"sort"

	"github.com/bgsync/bgsync/gate"
	"github.com/prometheus/client_golang/prometheus"
)

// Gates reads, at scrape time, what the gate metrics report.
type Gates struct {
	// Safe reports whether gate ("cutover", "rollback") passes now.
	Safe func(gate string) bool
	// LastVerify is what the last verify runs recorded (Known false: none
	// recorded, or they cannot be read).
	LastVerify func() gate.Verify
}

// RegisterGates installs bgsync_gate_safe{gate},
// bgsync_verify_last_success_timestamp_seconds and
// bgsync_verify_rows{table,class} on reg.
func RegisterGates(reg prometheus.Registerer, g Gates) error {
	return reg.Register(&gateCollector{g: g})
}

type gateCollector struct{ g Gates }

func (c *gateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descGateSafe
	ch <- descVerifyLastSuccess
	ch <- descVerifyRows
}

func (c *gateCollector) Collect(ch chan<- prometheus.Metric) {
	for _, gate := range []string{"cutover", "rollback"} {
		v := 0.0
		if c.g.Safe(gate) {
			v = 1
		}
		ch <- constMetric(descGateSafe, prometheus.GaugeValue, v, gate)
	}
	v := c.g.LastVerify()
	if t := v.LastConsistent; !t.IsZero() {
		ch <- constMetric(descVerifyLastSuccess, prometheus.GaugeValue, float64(t.UnixNano())/1e9)
	}
	for _, t := range v.Tables {
		classes := make([]string, 0, len(t.Rows))
		for class := range t.Rows {
			classes = append(classes, class)
		}
		sort.Strings(classes)
		for _, class := range classes {
			ch <- constMetric(descVerifyRows, prometheus.GaugeValue, float64(t.Rows[class]), t.Table, class)
		}
	}
}
