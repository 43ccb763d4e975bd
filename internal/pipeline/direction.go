package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	capturepg "github.com/bgsync/bgsync/capture/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transport"
	"golang.org/x/sync/errgroup"
)

// Config configures one direction.
type Config struct {
	Name    string // e.g. "blue-to-green"
	Capture capturepg.Config
	Apply   applypg.Config
	Brokers []string
	Topic   string
	// BatchRows caps the rows grouped into one target transaction (default
	// 5000); a single larger source transaction is applied whole.
	BatchRows int
	// MaxBackoff caps the wait between restarts (default 30s).
	MaxBackoff time.Duration
	Logger     *slog.Logger
}

// Direction is one supervised sync direction.
type Direction struct {
	cfg   Config
	log   *slog.Logger
	stats statsBox
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
	d := &Direction{cfg: cfg, log: cfg.Logger.With("direction", cfg.Name)}
	d.stats.s = Stats{Direction: cfg.Name, State: StateStarting}
	return d
}

// Stats returns a snapshot.
func (d *Direction) Stats() Stats { return d.stats.get() }

// Run supervises the direction until ctx is cancelled; it returns nil then.
func (d *Direction) Run(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	for {
		started := time.Now()
		err := d.runOnce(ctx)
		if ctx.Err() != nil {
			d.stats.update(func(s *Stats) { s.State = StateStopped })
			return nil
		}
		if time.Since(started) > time.Minute {
			backoff = 250 * time.Millisecond
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		d.log.Error("direction failed; restarting", "error", err.Error(), "retryable", retryable(err), "retry_in", wait.String())
		d.stats.update(func(s *Stats) { s.State, s.LastError = StateRetrying, err.Error(); s.Restarts++ })
		select {
		case <-ctx.Done():
			d.stats.update(func(s *Stats) { s.State = StateStopped })
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, d.cfg.MaxBackoff)
	}
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
	app, err := applypg.Open(ctx, d.cfg.Apply)
	if err != nil {
		return fmt.Errorf("open applier: %w", err)
	}
	defer app.Close()

	if err := transport.EnsureTopic(ctx, d.cfg.Brokers, d.cfg.Topic, 1); err != nil {
		return fmt.Errorf("topic %s: %w", d.cfg.Topic, err)
	}
	cons, err := transport.NewConsumer(ctx, transport.ConsumerConfig{Brokers: d.cfg.Brokers, Topic: d.cfg.Topic})
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer cons.Close()
	prod, err := transport.NewProducer(transport.ProducerConfig{Brokers: d.cfg.Brokers, Topic: d.cfg.Topic})
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer prod.Close()

	capCfg := d.cfg.Capture
	capCfg.Logger = d.log
	capt, err := capturepg.New(capCfg)
	if err != nil {
		return err
	}
	capt.Ack(app.Checkpoint())
	d.stats.update(func(s *Stats) { s.Checkpoint = app.Checkpoint().String() })

	g, ctx := errgroup.WithContext(ctx)
	captured := make(chan *change.Txn, 256)
	fromKafka := make(chan consumed, 256)
	g.Go(stage("capture", func() error { return capt.Run(ctx, captured) }))
	g.Go(stage("produce", func() error { return d.produce(ctx, prod, captured) }))
	g.Go(stage("consume", func() error { return d.consume(ctx, cons, fromKafka) }))
	g.Go(stage("apply", func() error { return d.apply(ctx, app, capt, fromKafka) }))
	d.stats.update(func(s *Stats) { s.State, s.LastError = StateRunning, "" })
	d.log.Info("direction running", "checkpoint", app.Checkpoint().String(), "topic", d.cfg.Topic)
	err = g.Wait()
	cs := capt.Stats()
	d.stats.update(func(s *Stats) { s.EchoDropped += cs.EchoTxns })
	return err
}

// produce writes captured transactions to Kafka, grouping whatever is
// already waiting into one synchronous write.
func (d *Direction) produce(ctx context.Context, prod *transport.Producer, in <-chan *change.Txn) error {
	var batch []*change.Txn
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case t := <-in:
			batch = append(batch, t)
		}
		rows := len(batch[0].Changes)
	more:
		for rows < d.cfg.BatchRows {
			select {
			case t := <-in:
				batch = append(batch, t)
				rows += len(t.Changes)
			default:
				break more
			}
		}
		if err := prod.WriteTxns(ctx, batch); err != nil {
			return fmt.Errorf("produce to %s: %w", d.cfg.Topic, err)
		}
		d.stats.update(func(s *Stats) {
			s.Captured += uint64(len(batch))
			s.CapturedRows += uint64(rows)
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
func (d *Direction) apply(ctx context.Context, app *applypg.Applier, capt *capturepg.Capture, in <-chan consumed) error {
	var group []*change.Txn
	for {
		group = group[:0]
		var last consumed
		select {
		case <-ctx.Done():
			return ctx.Err()
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
		res, err := app.Apply(ctx, group, last.offset)
		if err != nil {
			return err
		}
		capt.Ack(res.Position)
		now := time.Now()
		if res.Applied > 0 {
			d.stats.addLag(now.Sub(res.LastCommitTime))
		}
		d.stats.update(func(s *Stats) {
			s.AppliedTxns += uint64(res.Applied)
			s.SkippedTxns += uint64(res.Skipped)
			s.Inserted += uint64(res.Inserted)
			s.Updated += uint64(res.Updated)
			s.Deleted += uint64(res.Deleted)
			s.Truncated += uint64(res.Truncated)
			s.Missing += uint64(res.Missing)
			s.Checkpoint = res.Position.String()
			if res.Applied > 0 {
				s.LastCommit = res.LastCommitTime
			}
		})
	}
}
