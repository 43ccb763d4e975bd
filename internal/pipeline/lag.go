package pipeline

import (
	"sort"
	"sync"
	"time"
)

// lagTracker times heartbeats from the moment the writer sends one into the
// source until the applier reports the target transaction that covers it
// committed. Both ends are this process's monotonic clock, so no host
// clock is involved.
//
// The lag it reports is the age of the oldest beat still in flight, or,
// when none is, the latency of the last beat to arrive: right to a beat
// interval when the application is idle, and growing without bound while
// anything between the source and the target is stuck. When the writer
// itself has not managed to send a beat for staleAfter beat intervals, the
// lag is the age of the newest beat that arrived (or the time since the
// tracker started, if none has): what the target is known to hold.
type lagTracker struct {
	mu       sync.Mutex
	interval time.Duration
	start    time.Time
	lastSeq  int64
	pending  []sentBeat // in send order
	// lastLatency is the send-to-apply time of the newest beat to arrive,
	// arrivedSent when it was sent; sentOK when the writer last succeeded.
	lastLatency         time.Duration
	arrivedSent, sentOK time.Time
	arrived             uint64
	samples             []time.Duration // ring of recent latencies
	next                int
}

func newLagTracker(interval time.Duration, now time.Time) *lagTracker {
	return &lagTracker{interval: interval, start: now}
}

type sentBeat struct {
	seq int64
	at  time.Time
	// sample: sent while the direction was running, so its latency goes
	// into the percentiles (beats sent while it starts or retries measure
	// the outage, which the lag itself shows).
	sample bool
}

// lagSamples is how many recent beats the percentiles cover (five minutes
// at the default interval).
const lagSamples = 300

// maxPending bounds the beats remembered while a direction is stuck (a day
// at the default interval).
const maxPending = 86400

// staleAfter is how many intervals without a successful beat make the lag
// the age of the last arrival.
const staleAfter = 3

// send registers a beat about to be written and returns its sequence number:
// the send time in nanoseconds, made strictly increasing. A later process
// starts above it, so a beat replayed from an earlier run is never matched.
// running says whether the direction is running (see sentBeat.sample).
func (l *lagTracker) send(now time.Time, running bool) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := max(now.UnixNano(), l.lastSeq+1)
	l.lastSeq = seq
	if len(l.pending) < maxPending { // past it the oldest beats already tell the lag
		l.pending = append(l.pending, sentBeat{seq: seq, at: now, sample: running})
	}
	return seq
}

// sent records the outcome of the write of seq. A failed write is
// forgotten: the beat may never reach the stream.
func (l *lagTracker) sent(seq int64, now time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		l.sentOK = now
		return
	}
	for i, b := range l.pending {
		if b.seq == seq {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			return
		}
	}
}

// applied records beats the target now holds. A beat sent before one that
// arrived and not itself seen never will be (its write failed ambiguously):
// it is dropped with it.
func (l *lagTracker) applied(seqs []int64, now time.Time) {
	if len(seqs) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, seq := range seqs {
		i := sort.Search(len(l.pending), func(i int) bool { return l.pending[i].seq >= seq })
		if i == len(l.pending) || l.pending[i].seq != seq {
			continue // an earlier process's beat, replayed
		}
		d, b := now.Sub(l.pending[i].at), l.pending[i]
		l.arrivedSent, l.lastLatency = b.at, d
		l.pending = append(l.pending[:0], l.pending[i+1:]...)
		l.arrived++
		if !b.sample {
			continue
		}
		if len(l.samples) < lagSamples {
			l.samples = append(l.samples, d)
		} else {
			l.samples[l.next] = d
			l.next = (l.next + 1) % lagSamples
		}
	}
}

// lagFigures are the tracker's figures at one moment.
type lagFigures struct {
	lag, p50, p99 time.Duration
	arrived       uint64
	// lastArrival is the send time of the newest beat the target holds.
	lastArrival time.Time
}

func (l *lagTracker) figures(now time.Time) lagFigures {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := lagFigures{lag: l.lastLatency, arrived: l.arrived, lastArrival: l.arrivedSent}
	if len(l.pending) > 0 {
		f.lag = max(f.lag, now.Sub(l.pending[0].at))
	}
	okAt, known := l.sentOK, l.arrivedSent
	if okAt.IsZero() {
		okAt = l.start
	}
	if known.IsZero() {
		known = l.start
	}
	if now.Sub(okAt) > staleAfter*l.interval {
		f.lag = max(f.lag, now.Sub(known))
	}
	if n := len(l.samples); n > 0 {
		s := append([]time.Duration(nil), l.samples...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		f.p50, f.p99 = s[n*50/100], s[min(n-1, n*99/100)]
	}
	return f
}
