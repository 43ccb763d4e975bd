package pipeline

import "time"

// ApplyBuckets are the upper bounds, in seconds, of the apply duration
// histogram (Prometheus' default buckets).
var ApplyBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram counts observations per bucket of ApplyBuckets (not
// cumulative; the last count is above the last bound). It is an array
// value, so a Stats snapshot copies it whole.
type Histogram struct {
	Counts [len(ApplyBuckets) + 1]uint64
	Count  uint64
	Sum    float64 // seconds
}

// Observe adds one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(ApplyBuckets) && s > ApplyBuckets[i] {
		i++
	}
	h.Counts[i]++
	h.Count++
	h.Sum += s
}
