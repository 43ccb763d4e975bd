package pipeline

import (
	"testing"
	"time"
)

func TestStatsLag(t *testing.T) {
	var b statsBox
	b.update(func(s *Stats) { b.produced = 100 })
	for i := 1; i <= 100; i++ {
		b.addLag(time.Duration(i) * time.Millisecond)
	}
	b.update(func(s *Stats) { b.applied = 90 })
	s := b.get()
	if s.Lag != 100*time.Millisecond {
		t.Errorf("lag while behind = %v, want the last sample", s.Lag)
	}
	if s.LagP50 != 51*time.Millisecond || s.LagP99 != 100*time.Millisecond {
		t.Errorf("p50 %v p99 %v", s.LagP50, s.LagP99)
	}
	b.update(func(s *Stats) { b.applied = 100 })
	if s := b.get(); s.Lag != 0 {
		t.Errorf("lag once everything read is applied = %v, want 0", s.Lag)
	}
}

func TestStatsLagWindowWraps(t *testing.T) {
	var b statsBox
	for i := 0; i < lagWindow+10; i++ {
		b.addLag(time.Second)
	}
	if len(b.lags) != lagWindow {
		t.Fatalf("window holds %d samples", len(b.lags))
	}
}
