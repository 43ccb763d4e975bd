package pipeline

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{3 * time.Millisecond, 5 * time.Millisecond, 40 * time.Millisecond, 20 * time.Second} {
		h.Observe(d)
	}
	// 3 ms and 5 ms fall in le=0.005 (bounds are inclusive), 40 ms in
	// le=0.05, 20 s above the last bound.
	if h.Counts[0] != 2 || h.Counts[3] != 1 || h.Counts[len(ApplyBuckets)] != 1 || h.Count != 4 {
		t.Fatalf("counts %v, count %d", h.Counts, h.Count)
	}
	if h.Sum < 20.047 || h.Sum > 20.049 {
		t.Fatalf("sum %v", h.Sum)
	}
}
