package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// EmbeddedOptions configures the embedded Kafka-protocol broker. Zero values
// get the defaults noted.
type EmbeddedOptions struct {
	// Dir is the data directory (required). Topics and messages persist
	// there across restarts; one broker at a time may use it (it is locked).
	Dir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one (see Addrs).
	Port int
	// SyncWrites fsyncs every produced batch before acknowledging it, so an
	// acknowledged message survives a power loss, not only a process crash.
	// It costs throughput (see the package benchmarks); off by default,
	// like Kafka's own default. Nothing is lost either way: the source
	// re-sends whatever the target has not applied.
	SyncWrites bool
	// MaxMessageBytes is the largest produce batch the broker accepts
	// (message.max.bytes, default 64 MiB). The producer's BatchBytes must
	// stay below it.
	MaxMessageBytes int
	// Retention drops messages older than this (default 24h); RetentionBytes
	// (default unlimited) caps each partition's size. The consumer never
	// reads old messages (it starts at the end), so retention only bounds
	// disk use; a consumer that falls behind retention gets an offset-gap
	// error and the direction restarts.
	Retention      time.Duration
	RetentionBytes int64
	// Logger receives the broker's warnings and errors (its informational
	// logs at Debug). Default: discard.
	Logger *slog.Logger
}

// Validate reports a missing or unusable option.
func (o *EmbeddedOptions) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("embedded broker: data directory is empty"))
	}
	if o.Port < 0 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("embedded broker: port %d out of range", o.Port))
	}
	if o.MaxMessageBytes < 0 || o.Retention < 0 {
		errs = append(errs, errors.New("embedded broker: negative MaxMessageBytes or Retention"))
	}
	return errors.Join(errs...)
}

func (o *EmbeddedOptions) withDefaults() EmbeddedOptions {
	out := *o
	if out.MaxMessageBytes == 0 {
		out.MaxMessageBytes = 64 << 20
	}
	if out.Retention == 0 {
		out.Retention = 24 * time.Hour
	}
	if out.RetentionBytes <= 0 {
		out.RetentionBytes = -1
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// Embedded is an in-process Kafka-protocol broker (kfake) persisting to a
// data directory. It is one broker, which is also the controller.
type Embedded struct {
	cluster *kfake.Cluster
	log     *kfakeLogger
	unlock  func() error
	stop    context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
	err     error
}

// StartEmbedded starts the broker, reloading what an earlier run persisted
// in opts.Dir.
func StartEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	unlock, err := lockDir(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	lg := &kfakeLogger{l: o.Logger}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(o.Port),
		kfake.DataDir(o.Dir),
		kfake.DefaultNumPartitions(1),
		kfake.WithLogger(lg),
		kfake.BrokerConfigs(map[string]string{
			"message.max.bytes":   strconv.Itoa(o.MaxMessageBytes),
			"log.retention.ms":    strconv.FormatInt(o.Retention.Milliseconds(), 10),
			"log.retention.bytes": strconv.FormatInt(o.RetentionBytes, 10),
		}),
	}
	if o.SyncWrites {
		kopts = append(kopts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("embedded broker in %s: %w", o.Dir, err), unlock())
	}
	ctx, stop := context.WithCancel(context.Background())
	e := &Embedded{cluster: c, log: lg, unlock: unlock, stop: stop}
	e.wg.Go(func() { e.applyRetention(ctx, retentionInterval(o.Retention)) })
	return e, nil
}

// retentionInterval is how often retention is enforced: a tenth of the
// retention, between 10 s and 5 min.
func retentionInterval(r time.Duration) time.Duration {
	return min(max(r/10, 10*time.Second), 5*time.Minute)
}

// applyRetention enforces retention periodically: kfake only does it on its
// own for topics with explicit retention configs.
func (e *Embedded) applyRetention(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.cluster.ApplyRetention()
		}
	}
}

// Addrs returns the broker's host:port addresses, for producer and consumer
// configs.
func (e *Embedded) Addrs() []string { return e.cluster.ListenAddrs() }

// Close stops the broker, persists its state and releases the data
// directory. It returns the errors the broker reported while persisting.
// Calling it again returns the first result.
func (e *Embedded) Close() error {
	e.once.Do(func() {
		e.stop()
		e.wg.Wait()
		e.log.startCollecting()
		e.cluster.Close()
		e.err = errors.Join(e.log.collected(), e.unlock())
		if e.err != nil {
			e.err = fmt.Errorf("embedded broker close: %w", e.err)
		}
	})
	return e.err
}
