package pipeline

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestLagIdleIsLastLatency(t *testing.T) {
	l := newLagTracker(time.Second, t0)
	for i := 0; i < 10; i++ {
		seq := l.send(at(i*1000), true)
		l.sent(seq, at(i*1000+2), true)
		l.applied([]int64{seq}, at(i*1000+15))
	}
	f := l.figures(at(9500))
	if f.lag != 15*time.Millisecond || f.arrived != 10 {
		t.Fatalf("idle: lag %v arrived %d, want 15ms and 10", f.lag, f.arrived)
	}
	if f.p50 != 15*time.Millisecond || f.p99 != 15*time.Millisecond {
		t.Errorf("p50 %v p99 %v", f.p50, f.p99)
	}
	if !f.lastArrival.Equal(at(9000)) {
		t.Errorf("last arrival %v", f.lastArrival)
	}
	// A new beat just sent: its age is below the last latency.
	seq := l.send(at(10000), true)
	l.sent(seq, at(10002), true)
	if f := l.figures(at(10005)); f.lag != 15*time.Millisecond {
		t.Errorf("beat in flight 5ms: lag %v, want 15ms", f.lag)
	}
}

func TestLagGrowsWhileStuck(t *testing.T) {
	l := newLagTracker(time.Second, t0)
	seq := l.send(at(0), true)
	l.sent(seq, at(1), true)
	l.applied([]int64{seq}, at(10))
	var stuck []int64
	for i := 1; i <= 5; i++ {
		s := l.send(at(i*1000), true)
		l.sent(s, at(i*1000+1), true)
		stuck = append(stuck, s)
	}
	if f := l.figures(at(5500)); f.lag != 4500*time.Millisecond {
		t.Fatalf("stuck: lag %v, want the oldest beat's age 4.5s", f.lag)
	}
	// All of them arrive at once: the lag falls to the newest's latency.
	l.applied(stuck, at(5600))
	f := l.figures(at(5700))
	if f.lag != 600*time.Millisecond || f.arrived != 6 {
		t.Errorf("caught up: lag %v arrived %d, want 600ms and 6", f.lag, f.arrived)
	}
	if f.p99 != 4600*time.Millisecond {
		t.Errorf("p99 %v, want the slowest beat's 4.6s", f.p99)
	}
}

func TestLagWriterFailing(t *testing.T) {
	l := newLagTracker(time.Second, t0)
	seq := l.send(at(0), true)
	l.sent(seq, at(1), true)
	l.applied([]int64{seq}, at(10))
	for i := 1; i <= 5; i++ { // the source refuses every write
		s := l.send(at(i*1000), true)
		l.sent(s, at(i*1000+1), false)
	}
	if len(l.pending) != 0 {
		t.Fatalf("failed beats kept: %d", len(l.pending))
	}
	if f := l.figures(at(2500)); f.lag != 10*time.Millisecond {
		t.Errorf("within %d intervals: lag %v, want the last latency", staleAfter, f.lag)
	}
	if f := l.figures(at(5500)); f.lag != 5500*time.Millisecond {
		t.Errorf("writer failing for 5.5s: lag %v, want the age of the last arrival", f.lag)
	}
	// Never a successful beat at all: the lag counts from the start.
	l = newLagTracker(time.Second, t0)
	if f := l.figures(at(4000)); f.lag != 4*time.Second {
		t.Errorf("no beat ever: lag %v, want 4s", f.lag)
	}
}

func TestLagLostAndReplayedBeats(t *testing.T) {
	l := newLagTracker(time.Second, t0)
	a := l.send(at(0), true)
	l.sent(a, at(1), true) // committed, but its change never arrives
	b := l.send(at(1000), true)
	l.sent(b, at(1001), true)
	l.applied([]int64{b - 1_000_000_000_000, b}, at(1020)) // an earlier process's beat, then b
	f := l.figures(at(1500))
	if f.lag != 20*time.Millisecond || f.arrived != 1 || len(l.pending) != 0 {
		t.Errorf("lag %v arrived %d pending %d; want 20ms, 1, 0 (a dropped with b)", f.lag, f.arrived, len(l.pending))
	}
}

func TestLagSeqIncreases(t *testing.T) {
	l := newLagTracker(time.Second, t0)
	a, b := l.send(at(0), true), l.send(at(0), true)
	if b <= a {
		t.Fatalf("seq %d then %d", a, b)
	}
	for i := 0; i < lagSamples+10; i++ {
		s := l.send(at(i), true)
		l.applied([]int64{s}, at(i+1))
	}
	if len(l.samples) != lagSamples {
		t.Errorf("samples %d, want the window %d", len(l.samples), lagSamples)
	}
}

func TestLagSamplesOnlyWhileRunning(t *testing.T) {
	l := newLagTracker(time.Second, t0)
	start := l.send(at(0), false) // sent while the direction was starting
	l.sent(start, at(1), true)
	l.applied([]int64{start}, at(1500))
	seq := l.send(at(2000), true)
	l.sent(seq, at(2001), true)
	l.applied([]int64{seq}, at(2010))
	f := l.figures(at(2100))
	if f.p99 != 10*time.Millisecond || f.arrived != 2 {
		t.Errorf("p99 %v arrived %d; want the running beat's 10ms only, both counted", f.p99, f.arrived)
	}
}
