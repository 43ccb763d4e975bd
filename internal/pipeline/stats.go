package pipeline

import (
	"sync"
	"time"
)

// State of a direction.
type State string

const (
	StateStarting State = "starting"
	StateRunning  State = "running"
	StateRetrying State = "retrying"
	// StateDraining: asked to stop, applying what was already read.
	StateDraining State = "draining"
	// StatePaused: stopped at a change its transform cannot map (see
	// TransformError); LastError names it. It stays paused until stopped.
	StatePaused  State = "paused"
	StateStopped State = "stopped"
)

// Stats is a snapshot of a direction.
type Stats struct {
	Direction    string
	State        State
	LastError    string
	LastErrorAt  time.Time // when the direction last failed; zero if never
	Restarts     int
	Captured     uint64 // source transactions read
	CapturedRows uint64
	// CapturedOps counts captured row changes by operation: insert,
	// update, delete, truncate.
	CapturedOps [4]uint64
	EchoDropped uint64 // transactions dropped as bgsync's own writes
	AppliedTxns uint64
	// TargetTxns counts the target transactions that applied them (one
	// applies a group of source transactions); each comes back to the
	// target's capture as one echo.
	TargetTxns  uint64
	SkippedTxns uint64 // already applied (replay)
	Inserted    uint64
	Updated     uint64
	Deleted     uint64
	Truncated   uint64
	Missing     uint64
	// ApplyRetries counts target transactions rolled back and applied
	// again after losing a race with the application.
	ApplyRetries uint64
	// ApplyErrors counts target transactions that failed for good (after
	// any in-place retries): each restarts the direction.
	ApplyErrors uint64
	// ApplyDuration is the time each target transaction took (read,
	// resolve, write, commit).
	ApplyDuration Histogram
	// Conflicts counts conflicts detected by the applier, by kind and
	// resolution (both as the conflict package names them).
	Conflicts map[ConflictKey]uint64
	// Unresolved is the number of this direction's conflicts on the target
	// still waiting for bgsync conflicts resolve.
	Unresolved int64
	// DeadLetters is the number of this direction's rows in the target's
	// dead_letters table not yet marked handled; DeadLettered counts the
	// rows this process set aside. TransformErrors counts the changes that
	// paused the direction.
	DeadLetters     int64
	DeadLettered    uint64
	TransformErrors uint64
	Checkpoint      string
	LastCommit      time.Time // source commit time of the last applied txn
	// Lag is the heartbeat lag: the age of the oldest heartbeat written
	// into the source and not yet applied on the target, or the latency of
	// the last one when none is in flight (see lagTracker). LagP50 and
	// LagP99 are over the latencies of recent heartbeats.
	Lag, LagP50, LagP99 time.Duration
	// Heartbeats counts the heartbeats that arrived; LastHeartbeat is
	// when the newest of them was sent (this host's clock).
	Heartbeats    uint64
	LastHeartbeat time.Time
	// CaptureLag is source commit to capture of the last transaction read
	// (compares the source host's clock with this one's).
	CaptureLag time.Duration
	// RetainedBytes is the WAL the source keeps for the slot; SlotWALStatus
	// is pg_replication_slots.wal_status. Read every few heartbeats.
	RetainedBytes int64
	SlotWALStatus string
}

// ConflictKey labels a conflict count.
type ConflictKey struct{ Kind, Resolution string }

// Rows is the number of row changes applied.
func (s Stats) Rows() uint64 { return s.Inserted + s.Updated + s.Deleted }

type statsBox struct {
	mu sync.Mutex
	s  Stats
	// echoBase sums the echo drops of finished runs; the running capture
	// adds its own.
	echoBase uint64
}

func (b *statsBox) update(f func(*Stats)) {
	b.mu.Lock()
	f(&b.s)
	b.mu.Unlock()
}

func (b *statsBox) get() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.s
	if b.s.Conflicts != nil {
		s.Conflicts = make(map[ConflictKey]uint64, len(b.s.Conflicts))
		for k, v := range b.s.Conflicts {
			s.Conflicts[k] = v
		}
	}
	return s
}
