package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/bgsync/bgsync/internal/snapshot"
)

// statusBody is the /v1/status document.
type statusBody struct {
	Version    string            `json:"version"`
	Ready      bool              `json:"ready"` // every direction running, as /readyz
	Directions []directionStatus `json:"directions"`
	// LastVerify is the last recorded bgsync verify run; null when none
	// is known (or it cannot be read).
	LastVerify *lastVerify `json:"last_verify"`
	// Snapshot is the initial copy run is making or made (snapshot.
	// initial_load: auto); absent when there is none.
	Snapshot *SnapshotStatus `json:"snapshot,omitempty"`
}

// SnapshotStatus is the initial copy of one direction.
type SnapshotStatus struct {
	Direction string `json:"direction"`
	snapshot.Status
}

type lastVerify struct {
	Finished       time.Time  `json:"finished"`
	Status         string     `json:"status"`
	Divergent      []string   `json:"divergent_tables"`
	LastConsistent *time.Time `json:"last_consistent"`
}

type directionStatus struct {
	Name           string         `json:"name"`
	State          pipeline.State `json:"state"`
	Restarts       int            `json:"restarts"`
	LastError      string         `json:"last_error"`
	Checkpoint     string         `json:"checkpoint"`
	LagSeconds     float64        `json:"lag_seconds"`
	LagP50Seconds  float64        `json:"lag_p50_seconds"`
	LagP99Seconds  float64        `json:"lag_p99_seconds"`
	LastCommitTime *time.Time     `json:"last_commit_time"` // null before the first applied commit
	// Heartbeats arrived, and when the newest of them was sent (null
	// before the first).
	Heartbeats        uint64     `json:"heartbeats"`
	LastHeartbeat     *time.Time `json:"last_heartbeat"`
	CaptureLagSeconds float64    `json:"capture_lag_seconds"`
	// Source WAL the slot retains, and the slot's wal_status.
	RetainedBytes int64           `json:"source_retained_bytes"`
	SlotWALStatus string          `json:"slot_wal_status"`
	Captured      capturedCounts  `json:"captured"`
	Applied       appliedCounts   `json:"applied"`
	EchoDropped   uint64          `json:"echo_dropped"` // transactions
	Conflicts     []conflictCount `json:"conflicts"`
	// UnresolvedConflicts waits for bgsync conflicts resolve.
	UnresolvedConflicts int64 `json:"unresolved_conflicts"`
	// DeadLetters: rows in the target's dead_letters table not yet
	// handled; DeadLettered: rows this process set aside; TransformErrors:
	// rows that paused the direction (state "paused", last_error names it).
	DeadLetters     int64  `json:"dead_letters_pending"`
	DeadLettered    uint64 `json:"dead_lettered"`
	TransformErrors uint64 `json:"transform_errors"`
}

type capturedCounts struct {
	Transactions uint64 `json:"transactions"`
	Rows         uint64 `json:"rows"`
}

type appliedCounts struct {
	Transactions   uint64 `json:"transactions"`
	AlreadyApplied uint64 `json:"already_applied"` // replayed transactions skipped
	Inserted       uint64 `json:"inserted"`
	Updated        uint64 `json:"updated"`
	Deleted        uint64 `json:"deleted"`
	Truncated      uint64 `json:"truncated"`
	RowMissing     uint64 `json:"row_missing"` // updates and deletes that found no target row
}

type conflictCount struct {
	Kind       string `json:"kind"`
	Resolution string `json:"resolution"`
	Count      uint64 `json:"count"`
}

func status(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stats := opts.Stats()
		body := statusBody{Version: opts.Version, Ready: len(stats) > 0, Directions: []directionStatus{}}
		if opts.Gate.LastVerify != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			v, err := opts.Gate.LastVerify(ctx)
			cancel()
			if err == nil && v.Known {
				body.LastVerify = &lastVerify{Finished: v.Finished, Status: v.Status, Divergent: v.Divergent}
				if body.LastVerify.Divergent == nil {
					body.LastVerify.Divergent = []string{}
				}
				if !v.LastConsistent.IsZero() {
					body.LastVerify.LastConsistent = &v.LastConsistent
				}
			}
		}
		if opts.Snapshot != nil {
			body.Snapshot = opts.Snapshot()
		}
		for _, s := range stats {
			body.Ready = body.Ready && s.State == pipeline.StateRunning
			body.Directions = append(body.Directions, directionOf(s, opts.Scrub))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(body) // the client went away; nothing to tell
	})
}

func directionOf(s pipeline.Stats, scrub func(string) string) directionStatus {
	d := directionStatus{
		Name:          s.Direction,
		State:         s.State,
		Restarts:      s.Restarts,
		LastError:     scrub(s.LastError),
		Checkpoint:    s.Checkpoint,
		LagSeconds:    s.Lag.Seconds(),
		LagP50Seconds: s.LagP50.Seconds(),
		LagP99Seconds: s.LagP99.Seconds(),
		Captured:      capturedCounts{Transactions: s.Captured, Rows: s.CapturedRows},
		Applied: appliedCounts{
			Transactions: s.AppliedTxns, AlreadyApplied: s.SkippedTxns,
			Inserted: s.Inserted, Updated: s.Updated, Deleted: s.Deleted, Truncated: s.Truncated,
			RowMissing: s.Missing,
		},
		Heartbeats:          s.Heartbeats,
		CaptureLagSeconds:   s.CaptureLag.Seconds(),
		RetainedBytes:       s.RetainedBytes,
		SlotWALStatus:       s.SlotWALStatus,
		EchoDropped:         s.EchoDropped,
		Conflicts:           []conflictCount{},
		UnresolvedConflicts: s.Unresolved,
		DeadLetters:         s.DeadLetters,
		DeadLettered:        s.DeadLettered,
		TransformErrors:     s.TransformErrors,
	}
	if !s.LastCommit.IsZero() {
		t := s.LastCommit.UTC()
		d.LastCommitTime = &t
	}
	if !s.LastHeartbeat.IsZero() {
		t := s.LastHeartbeat.UTC()
		d.LastHeartbeat = &t
	}
	for k, n := range s.Conflicts {
		d.Conflicts = append(d.Conflicts, conflictCount{Kind: k.Kind, Resolution: k.Resolution, Count: n})
	}
	slices.SortFunc(d.Conflicts, func(a, b conflictCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Resolution, b.Resolution))
	})
	return d
}
