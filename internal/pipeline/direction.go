package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/transform"
	"github.com/bgsync/bgsync/transport"
	"golang.org/x/sync/errgroup"
)

// Config configures one direction.
type Config struct {
	Name    string // e.g. "blue-to-green"
	Capture capturepg.Config
	Apply   applypg.Config
	// OpenSource, when set, opens the source instead of PostgreSQL capture
	// from Capture (a MySQL/MariaDB source); Run calls it at each start.
	OpenSource func(log *slog.Logger) (Source, error)
	// OpenTarget, when set, opens the target instead of the PostgreSQL
	// applier from Apply; heartbeats is the source's heartbeat table (its
	// changes are timed, never written), zero when none.
	OpenTarget func(ctx context.Context, heartbeats change.Table) (Target, error)
	// OpenBeater, when set, opens the heartbeat writer of a source that is
	// not PostgreSQL (which needs Schema and Side as well); without it such
	// a source gets no heartbeats.
	OpenBeater func(ctx context.Context) (Beater, error)
	// FormatPosition prints a source position for logs and status
	// (default: PostgreSQL's X/X LSN form).
	FormatPosition func(change.Position) string
	Brokers        []string
	Topic          string
	// BatchRows caps the rows grouped into one target transaction (default
	// 5000); a single larger source transaction is applied whole.
	BatchRows int
	// MaxBackoff caps the wait between restarts (default 30s).
	MaxBackoff time.Duration
	// Schema is bgsync's schema on the source and Side the source's side
	// ("blue" or "green"): with both set, a heartbeat is written into
	// Schema.heartbeats every HeartbeatInterval (default 1s) and timed on
	// arrival, and Apply.Heartbeats is set to that table.
	Schema, Side      string
	HeartbeatInterval time.Duration
	// Transforms maps the changes of each source table into the target's
	// shape before they are applied (and before conflicts are checked, so
	// images are compared in the target's shape). Tables not in the map,
	// and identity mappings, pass unchanged.
	Transforms map[change.Table]*transform.Mapping
	// DeadLetter lists the source tables whose unmappable changes are
	// recorded (Applier.RecordDeadLetters and DeadLetterTopic) and passed
	// over; on the others such a change pauses the direction.
	DeadLetter      map[change.Table]bool
	DeadLetterTopic string
	Logger          *slog.Logger
}

// Direction is one supervised sync direction.
type Direction struct {
	cfg       Config
	log       *slog.Logger
	stats     statsBox
	lag       *lagTracker
	drain     chan struct{}
	drainOnce sync.Once
}

// Drain asks Run to stop reading the source, apply everything already read,
// move the slot to the applied position and return. Cancelling Run's ctx
// still stops it at once.
//
// From the call on, the direction's state is draining (not ready), until
// Run returns and it is stopped.
func (d *Direction) Drain() {
	d.drainOnce.Do(func() {
		d.stats.update(func(s *Stats) {
			if s.State != StateStopped {
				s.State = StateDraining
			}
		})
		close(d.drain)
	})
}

func (d *Direction) draining() bool {
	select {
	case <-d.drain:
		return true
	default:
		return false
	}
}

// New returns a direction that has not started.
func New(cfg Config) *Direction {
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = 5000
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = time.Second
	}
	if cfg.beats() {
		cfg.Apply.Heartbeats = capturepg.HeartbeatTable(cfg.Schema)
	}
	d := &Direction{cfg: cfg, log: cfg.Logger.With("direction", cfg.Name), drain: make(chan struct{}),
		lag: newLagTracker(cfg.HeartbeatInterval, time.Now())}
	d.stats.s = Stats{Direction: cfg.Name, State: StateStarting}
	return d
}

func (c *Config) beats() bool {
	return c.Schema != "" && c.Side != "" && (c.pgSourceConfigured() || c.OpenBeater != nil)
}

// Stats returns a snapshot.
func (d *Direction) Stats() Stats {
	s := d.stats.get()
	f := d.lag.figures(time.Now())
	s.Lag, s.LagP50, s.LagP99, s.Heartbeats, s.LastHeartbeat = f.lag, f.p50, f.p99, f.arrived, f.lastArrival
	return s
}

// Run supervises the direction until ctx is cancelled; it returns nil then.
func (d *Direction) Run(ctx context.Context) error {
	if d.cfg.beats() {
		beatCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); d.heartbeat(beatCtx) }()
		defer func() { stop(); <-done }()
	}
	backoff := 250 * time.Millisecond
	for {
		started := time.Now()
		err := d.runOnce(ctx)
		if ctx.Err() != nil || d.draining() {
			if err != nil && ctx.Err() == nil {
				d.log.Error("drain failed; work in flight will be re-sent on the next start", "error", err.Error())
			}
			d.stats.update(func(s *Stats) { s.State = StateStopped })
			return nil
		}
		if te := (*TransformError)(nil); errors.As(err, &te) {
			d.pause(ctx, err, true)
			return nil
		}
		if pausing(err) {
			d.pause(ctx, err, false)
			return nil
		}
		if time.Since(started) > time.Minute {
			backoff = 250 * time.Millisecond
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		d.log.Error("direction failed; restarting", "error", err.Error(), "retryable", retryable(err), "retry_in", wait.String())
		d.stats.update(func(s *Stats) {
			s.State, s.LastError, s.LastErrorAt = StateRetrying, err.Error(), time.Now()
			s.Restarts++
		})
		select {
		case <-ctx.Done():
			d.stats.update(func(s *Stats) { s.State = StateStopped })
			return nil
		case <-d.drain: // stopping: nothing in flight to drain while down
			d.stats.update(func(s *Stats) { s.State = StateStopped })
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, d.cfg.MaxBackoff)
	}
}

// position prints p as the source's engine does.
func (c *Config) position(p change.Position) string {
	if c.FormatPosition != nil {
		return c.FormatPosition(p)
	}
	return p.String()
}

// pausing reports whether err says of itself that it pauses the direction
// (a source schema change only an operator can settle): retrying would
// meet it again.
func pausing(err error) bool {
	var p interface{ PausesDirection() bool }
	return errors.As(err, &p) && p.PausesDirection()
}

// retryable reports whether err says of itself that retrying may help.
func retryable(err error) bool {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	return true
}

// stage runs f, turning a panic into an error.
func stage(name string, f func() error) func() error {
	return func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%s: panic: %v\n%s", name, r, debug.Stack())
			}
		}()
		return f()
	}
}

// consumed is a transaction read from Kafka with its last offset.
type consumed struct {
	txn    *change.Txn
	offset int64
}

func (d *Direction) runOnce(ctx context.Context) error {
	app, err := d.openTarget(ctx)
	if err != nil {
		return fmt.Errorf("open applier: %w", err)
	}
	defer app.Close()

	if err := transport.EnsureTopic(ctx, d.cfg.Brokers, d.cfg.Topic, 1); err != nil {
		return fmt.Errorf("topic %s: %w", d.cfg.Topic, err)
	}
	// A run id ties this run's consumer to this run's producer: messages of
	// earlier runs that land late are passed over, never applied out of
	// order ahead of what the capture re-sends.
	run := rand.Uint64() | 1
	cons, err := transport.NewConsumer(ctx, transport.ConsumerConfig{Brokers: d.cfg.Brokers, Topic: d.cfg.Topic, Run: run})
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer cons.Close()
	prod, err := transport.NewProducer(transport.ProducerConfig{Brokers: d.cfg.Brokers, Topic: d.cfg.Topic, Run: run})
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer prod.Close()

	tf := &transformStage{maps: newMappers(&d.cfg)}
	if len(d.cfg.DeadLetter) > 0 && d.cfg.DeadLetterTopic != "" {
		if err := transport.EnsureTopic(ctx, d.cfg.Brokers, d.cfg.DeadLetterTopic, 1); err != nil {
			return fmt.Errorf("topic %s: %w", d.cfg.DeadLetterTopic, err)
		}
		tf.out = transport.NewDeadLetterWriter(d.cfg.Brokers, d.cfg.DeadLetterTopic)
		defer tf.out.Close()
	}

	capt, err := d.openSource()
	if err != nil {
		return err
	}
	capt.Ack(app.Checkpoint())
	d.stats.update(func(s *Stats) { s.Checkpoint = d.cfg.position(app.Checkpoint()) })

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	g, gctx := errgroup.WithContext(runCtx)
	capCtx, stopCapture := context.WithCancel(gctx)
	defer stopCapture()
	go func() {
		select {
		case <-d.drain:
			stopCapture()
		case <-capCtx.Done():
		}
	}()
	// Small queues: each stage groups whatever is waiting, so depth buys no
	// throughput, and every queued transaction holds its rows in memory.
	captured := make(chan *change.Txn, 16)
	fromKafka := make(chan consumed, 16)
	produced := make(chan change.Position, 1) // the last position produced, once the capture has stopped
	drained := false
	g.Go(stage("capture", func() error {
		err := capt.Run(capCtx, captured)
		if d.draining() && gctx.Err() == nil {
			close(captured) // drain: the producer writes what is left, then reports
			return nil
		}
		return err
	}))
	g.Go(stage("produce", func() error { return d.produce(gctx, prod, captured, produced, app.Checkpoint()) }))
	g.Go(stage("consume", func() error { return d.consume(gctx, cons, fromKafka) }))
	g.Go(stage("apply", func() error {
		err := d.apply(gctx, app, capt, tf, fromKafka, produced)
		if err == nil { // drained: everything produced is applied
			drained = true
			cancelRun()
		}
		return err
	}))
	d.stats.update(func(s *Stats) {
		if !d.draining() {
			s.State = StateRunning
		}
		s.LastError = ""
	})
	d.log.Info("direction running", "checkpoint", d.cfg.position(app.Checkpoint()), "topic", d.cfg.Topic)
	err = g.Wait()
	d.stats.update(func(s *Stats) {
		d.stats.echoBase += capt.Progress().EchoTxns
		s.EchoDropped = d.stats.echoBase
	})
	if drained {
		if d.cfg.pgSourceConfigured() { // a binlog has no slot to move
			d.advanceSlot(ctx, app.Checkpoint())
		}
		return nil
	}
	return err
}

// advanceSlot moves the stopped slot to the applied position, so the next
// start re-sends nothing. Failing here loses nothing: the replay is skipped.
func (d *Direction) advanceSlot(ctx context.Context, applied change.Position) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		if err = capturepg.Advance(ctx, d.cfg.Capture.DSN, d.cfg.Capture.Slot, applied); err == nil {
			d.log.Info("drained", "checkpoint", applied.String())
			return
		}
		time.Sleep(200 * time.Millisecond) // the walsender may still hold the slot for a moment
	}
	d.log.Warn("could not advance the slot after drain; the next start re-sends and skips", "error", err.Error())
}

// produce writes captured transactions to Kafka, grouping whatever is
// already waiting into one synchronous write.
func (d *Direction) produce(ctx context.Context, prod *transport.Producer, in <-chan *change.Txn,
	produced chan<- change.Position, last change.Position) error {
	var batch []*change.Txn
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case t, ok := <-in:
			if !ok { // the capture stopped for a drain
				produced <- last
				return nil
			}
			batch = append(batch, t)
		}
		rows := len(batch[0].Changes)
	more:
		for rows < d.cfg.BatchRows {
			select {
			case t, ok := <-in:
				if !ok {
					break more
				}
				batch = append(batch, t)
				rows += len(t.Changes)
			default:
				break more
			}
		}
		if err := prod.WriteTxns(ctx, batch); err != nil {
			return fmt.Errorf("produce to %s: %w", d.cfg.Topic, err)
		}
		last = batch[len(batch)-1].Position
		var ops [4]uint64
		userTxns, userRows := 0, 0 // heartbeats are not counted
		hb := d.cfg.Apply.Heartbeats
		for _, t := range batch {
			n := 0
			for i := range t.Changes {
				if t.Changes[i].Table == hb {
					continue
				}
				n++
				if k := opIndex(t.Changes[i].Op); k >= 0 {
					ops[k]++
				}
			}
			if n > 0 {
				userTxns++
				userRows += n
			}
		}
		d.stats.update(func(s *Stats) {
			s.Captured += uint64(userTxns)
			s.CapturedRows += uint64(userRows)
			for k, n := range ops {
				s.CapturedOps[k] += n
			}
		})
	}
}

func (d *Direction) consume(ctx context.Context, cons *transport.Consumer, out chan<- consumed) error {
	for {
		t, off, err := cons.Next(ctx)
		if err != nil {
			return fmt.Errorf("consume from %s: %w", d.cfg.Topic, err)
		}
		select {
		case out <- consumed{t, off}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// apply groups waiting transactions, applies them and acknowledges the
// position the target now holds.
//
// It returns nil only for a drain: once the producer has reported the last
// position it wrote and the target holds it.
func (d *Direction) apply(ctx context.Context, app Target, capt Source, tf *transformStage,
	in <-chan consumed, produced <-chan change.Position) error {
	var group []*change.Txn
	var target change.Position
	draining := false
	// The unresolved count is read at start and every unresolvedEvery, as
	// bgsync conflicts resolve (another process) lowers it; in between,
	// each group's new unresolved conflicts are added.
	if err := d.countUnresolved(ctx, app); err != nil {
		return err
	}
	recount := time.NewTicker(unresolvedEvery)
	defer recount.Stop()
	for {
		if draining && app.Checkpoint() >= target {
			return nil
		}
		group = group[:0]
		var last consumed
		select {
		case <-ctx.Done():
			return ctx.Err()
		case target = <-produced:
			draining = true
			continue
		case <-recount.C:
			if err := d.countUnresolved(ctx, app); err != nil {
				return err
			}
			continue
		case last = <-in:
			group = append(group, last.txn)
		}
		rows := len(last.txn.Changes)
	more:
		for rows < d.cfg.BatchRows {
			select {
			case c := <-in:
				group = append(group, c.txn)
				rows += len(c.txn.Changes)
				last = c
			default:
				break more
			}
		}
		began := time.Now()
		if err := d.transform(ctx, app, tf, group); err != nil {
			return err
		}
		res, err := app.Apply(ctx, group, last.offset)
		took := time.Since(began)
		if err != nil {
			if ctx.Err() == nil {
				d.stats.update(func(s *Stats) { s.ApplyErrors++ })
			}
			return err
		}
		capt.Ack(res.Position)
		d.lag.applied(res.Heartbeats, time.Now())
		cs := capt.Progress()
		// Transactions that carried only heartbeats are not counted as
		// applied; their target transaction writes no published row, so
		// it is not echoed either.
		user := res.Applied - res.HeartbeatTxns
		d.stats.update(func(s *Stats) {
			s.AppliedTxns += uint64(user)
			if user > 0 {
				s.TargetTxns++
			}
			s.CaptureLag = cs.CaptureLag
			s.SkippedTxns += uint64(res.Skipped)
			s.Inserted += uint64(res.Inserted)
			s.Updated += uint64(res.Updated)
			s.Deleted += uint64(res.Deleted)
			s.Truncated += uint64(res.Truncated)
			s.Missing += uint64(res.Missing)
			s.ApplyRetries += uint64(res.Retries)
			if user > 0 {
				s.ApplyDuration.Observe(took)
			}
			for l, n := range res.Conflicts {
				if s.Conflicts == nil {
					s.Conflicts = map[ConflictKey]uint64{}
				}
				s.Conflicts[ConflictKey{Kind: l.Kind, Resolution: l.Resolution}] += uint64(n)
				if l.Resolution == conflict.Unresolved.String() {
					s.Unresolved += int64(n)
				}
			}
			s.Checkpoint = d.cfg.position(res.Position)
			s.EchoDropped = d.stats.echoBase + cs.EchoTxns
			if res.Applied > 0 {
				s.LastCommit = res.LastCommitTime
			}
		})
	}
}

// unresolvedEvery is how often the applier re-reads the count of
// unresolved conflicts on the target.
const unresolvedEvery = 10 * time.Second

func (d *Direction) countUnresolved(ctx context.Context, app Target) error {
	n, err := app.Unresolved(ctx)
	if err != nil {
		return err
	}
	var dead int64
	if len(d.cfg.DeadLetter) > 0 {
		if dead, err = app.PendingDeadLetters(ctx); err != nil {
			return err
		}
	}
	d.stats.update(func(s *Stats) { s.Unresolved, s.DeadLetters = n, dead })
	return nil
}

// opIndex is an operation's place in Stats.CapturedOps, -1 for others.
func opIndex(op change.Op) int {
	switch op {
	case change.OpInsert:
		return 0
	case change.OpUpdate:
		return 1
	case change.OpDelete:
		return 2
	case change.OpTruncate:
		return 3
	}
	return -1
}
