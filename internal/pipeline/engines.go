package pipeline

import (
	"context"
	"time"

	"github.com/bgsync/bgsync/apply"
	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/change"
)

// Source is the capture of one direction's source database.
type Source interface {
	// Ack tells the source that the target durably holds everything up to
	// pos; called before Run with the target's checkpoint, where Run
	// starts (or resumes) from.
	Ack(pos change.Position)
	// Run sends committed transactions, in commit order, until ctx is
	// done or the stream fails.
	Run(ctx context.Context, out chan<- *change.Txn) error
	// Progress reports what the capture has seen so far.
	Progress() SourceProgress
}

// SourceProgress is what the direction reports of its capture.
type SourceProgress struct {
	// EchoTxns counts transactions dropped as bgsync's own writes.
	EchoTxns uint64
	// CaptureLag is the age of the last transaction read, when known.
	CaptureLag time.Duration
}

// Target is the writer of one direction's target database.
type Target interface {
	// Checkpoint is the source position the target durably holds.
	Checkpoint() change.Position
	// Apply writes txns (skipping those at or below the checkpoint) and
	// the new checkpoint in one target transaction.
	Apply(ctx context.Context, txns []*change.Txn, kafkaOffset int64) (apply.Result, error)
	// RecordDeadLetters keeps changes a transform could not map, before
	// the transactions they came in are applied.
	RecordDeadLetters(ctx context.Context, dls []apply.DeadLetter) error
	// Unresolved and PendingDeadLetters count what holds the gates.
	Unresolved(ctx context.Context) (int64, error)
	PendingDeadLetters(ctx context.Context) (int64, error)
	Close()
}

// pgSource adapts capture/postgres to Source.
type pgSource struct{ *capturepg.Capture }

func (s pgSource) Progress() SourceProgress {
	st := s.Stats()
	return SourceProgress{EchoTxns: st.EchoTxns, CaptureLag: st.CaptureLag}
}

// openSource opens the configured source: OpenSource when set, else
// PostgreSQL capture from Capture.
func (d *Direction) openSource() (Source, error) {
	if d.cfg.OpenSource != nil {
		return d.cfg.OpenSource(d.log)
	}
	capCfg := d.cfg.Capture
	capCfg.Logger = d.log
	c, err := capturepg.New(capCfg)
	if err != nil {
		return nil, err
	}
	return pgSource{c}, nil
}

// openTarget opens the configured target: OpenTarget when set, else the
// PostgreSQL applier from Apply.
func (d *Direction) openTarget(ctx context.Context) (Target, error) {
	if d.cfg.OpenTarget != nil {
		return d.cfg.OpenTarget(ctx, d.cfg.Apply.Heartbeats)
	}
	return applypg.Open(ctx, d.cfg.Apply)
}

// pgSourceConfigured reports whether the source is PostgreSQL, which the
// heartbeat writer and the drain's slot advance need.
func (c *Config) pgSourceConfigured() bool { return c.OpenSource == nil }
