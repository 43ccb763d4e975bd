package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/bgsync/bgsync/change"
)

// ConsumerConfig configures a Consumer. Zero values get the defaults noted.
type ConsumerConfig struct {
	Brokers   []string
	Topic     string
	Partition int // default 0
	// Run, when not zero, makes the consumer read only messages stamped
	// with this run id by a producer (ProducerConfig.Run), in sequence from
	// 0. Messages of other runs are skipped and counted: the source re-sends
	// everything not yet applied at every run start, so they carry nothing
	// the current run will not deliver again; a late-landing message of an
	// old run can then never be applied ahead of earlier re-sent ones. A
	// sequence number out of order is ErrOffsetGap: a lost message is never
	// skipped.
	Run   uint64
	Codec Codec
	// MaxTxnBytes bounds the encoded size of the one transaction being
	// rebuilt (default 128 MiB, about 400k changes of 300 bytes). Decoded,
	// a transaction takes roughly 3 to 4 times its encoded size. A larger
	// transaction is an ErrTxnTooLarge error: raise the limit.
	MaxTxnBytes int64
	// MinBytes, MaxBytes and MaxWait tune fetch requests (defaults 1 byte,
	// 4 MiB, 5 s). A fetch returns as soon as any message is there, so
	// MaxWait only bounds an idle poll. kafka-go gives the broker
	// MaxWait - min(1 s, MaxWait/4) and the response the rest: a short
	// MaxWait with large fetches times out and reconnects in a loop under
	// load (seen with 250 ms and 16 MiB). Close does not wait for MaxWait.
	MinBytes int
	MaxBytes int
	MaxWait  time.Duration
	// QueueCapacity is how many fetched messages wait to be decoded
	// (default 8192).
	QueueCapacity int
	// Logger receives dropped-transaction warnings and kafka-go's error logs
	// (default: discard).
	Logger *slog.Logger
}

// Validate reports a missing or unusable setting.
func (c *ConsumerConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("consumer: no brokers"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("consumer: topic is empty"))
	}
	if c.Partition < 0 || c.MaxTxnBytes < 0 || c.MinBytes < 0 || c.MaxBytes < 0 || c.QueueCapacity < 0 {
		errs = append(errs, errors.New("consumer: negative Partition, MaxTxnBytes, MinBytes, MaxBytes or QueueCapacity"))
	}
	return errors.Join(errs...)
}

func (c *ConsumerConfig) withDefaults() ConsumerConfig {
	out := *c
	if out.Codec == nil {
		out.Codec = Binary
	}
	if out.MaxTxnBytes == 0 {
		out.MaxTxnBytes = 128 << 20
	}
	if out.MinBytes == 0 {
		out.MinBytes = 1
	}
	if out.MaxBytes == 0 {
		out.MaxBytes = 4 << 20
	}
	if out.MaxWait <= 0 {
		out.MaxWait = 5 * time.Second
	}
	if out.QueueCapacity == 0 {
		out.QueueCapacity = 8192
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// Consumer reads one partition from the offset that was its end when the
// consumer was constructed and rebuilds whole transactions. Next is not
// safe for concurrent use; Stats is.
type Consumer struct {
	cfg     ConsumerConfig
	r       *kafka.Reader
	conns   *connTracker
	closing *atomic.Bool
	dec     Decoder
	asm     *assembler
	start   int64
	runSeq  uint64 // next sequence number expected from the run
	err     error  // sticky: returned by every Next after it

	mu    sync.Mutex
	stats ConsumerStats
}

// NewConsumer resolves the partition's current end offset and returns a
// consumer that starts there: construct it before the capture starts
// producing, so that it sees everything the capture sends. The topic must
// exist (see EnsureTopic).
func NewConsumer(ctx context.Context, cfg ConsumerConfig) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	start, err := endOffset(ctx, c.Brokers, c.Topic, c.Partition)
	if err != nil {
		return nil, err
	}
	errLog := c.Logger.With("component", "kafka-reader", "topic", c.Topic, "partition", c.Partition)
	conns := new(connTracker)
	closing := new(atomic.Bool)
	r := kafka.NewReader(kafka.ReaderConfig{
		Dialer:          &kafka.Dialer{Timeout: 10 * time.Second, DialFunc: conns.dial},
		Brokers:         c.Brokers,
		Topic:           c.Topic,
		Partition:       c.Partition,
		MinBytes:        c.MinBytes,
		MaxBytes:        c.MaxBytes,
		MaxWait:         c.MaxWait,
		QueueCapacity:   c.QueueCapacity,
		ReadLagInterval: -1,
		// Report an offset out of range instead of silently skipping to
		// the log start or waiting past the log end.
		OffsetOutOfRangeError: true,
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			if !closing.Load() { // closing the connections makes the reader complain
				errLog.Warn(fmt.Sprintf(format, args...))
			}
		}),
	})
	if err := r.SetOffset(start); err != nil {
		r.Close()
		return nil, fmt.Errorf("consumer for %s partition %d: set offset %d: %w", c.Topic, c.Partition, start, err)
	}
	cons := &Consumer{cfg: c, r: r, conns: conns, closing: closing, start: start,
		dec: c.Codec.NewDecoder(), asm: newAssembler(start, c.MaxTxnBytes)}
	dropLog := c.Logger.With("topic", c.Topic, "partition", c.Partition)
	cons.asm.onDrop = func(reason string, pos change.Position, id uint64, have, size uint32, offset int64) {
		dropLog.Warn("dropped incomplete transaction; the source re-sends it",
			"reason", reason, "position", pos.String(), "txn", id, "changes", have, "size", size, "offset", offset)
	}
	return cons, nil
}

// endOffset returns the offset the next message of the partition will get.
func endOffset(ctx context.Context, brokers []string, topic string, partition int) (int64, error) {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: tr}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(partition)}},
	})
	if err != nil {
		return 0, fmt.Errorf("end offset of %s partition %d: %w", topic, partition, err)
	}
	for _, p := range res.Topics[topic] {
		if p.Partition != partition {
			continue
		}
		if p.Error != nil {
			return 0, fmt.Errorf("end offset of %s partition %d: %w", topic, partition, p.Error)
		}
		return p.LastOffset, nil
	}
	return 0, fmt.Errorf("end offset of %s partition %d: partition not in the response", topic, partition)
}

// StartOffset is the offset the consumer started reading at.
func (c *Consumer) StartOffset() int64 { return c.start }

// Next returns the next complete transaction and the offset of its last
// message. It drops incomplete transactions (see the package
// documentation). Errors other than ctx's are sticky: a message that does
// not decode, a gap, or a transaction over MaxTxnBytes is a *MessageError
// naming topic, partition and offset, and every later call returns it.
func (c *Consumer) Next(ctx context.Context) (*change.Txn, int64, error) {
	if c.err != nil {
		return nil, 0, c.err
	}
	defer c.publishStats()
	for {
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			switch {
			case errors.Is(err, io.EOF):
				c.err = fmt.Errorf("read %s partition %d: consumer closed", c.cfg.Topic, c.cfg.Partition)
			case errors.Is(err, kafka.OffsetOutOfRange):
				// The partition no longer has the next offset: the broker
				// lost its data or retention removed it.
				c.err = &MessageError{Topic: c.cfg.Topic, Partition: c.cfg.Partition, Offset: c.asm.next,
					Err: fmt.Errorf("%w: %w", ErrOffsetGap, err)}
			default:
				c.err = fmt.Errorf("read %s partition %d: %w", c.cfg.Topic, c.cfg.Partition, err)
			}
			return nil, 0, c.err
		}
		if c.cfg.Run != 0 {
			current, err := c.checkRun(&m)
			if err != nil {
				c.err = &MessageError{Topic: c.cfg.Topic, Partition: c.cfg.Partition, Offset: m.Offset, Err: err}
				return nil, 0, c.err
			}
			if !current {
				continue // an earlier run's message: re-sent by the source in this run
			}
		}
		rec, err := c.dec.Decode(m.Key, m.Value)
		if err != nil {
			c.err = &MessageError{Topic: c.cfg.Topic, Partition: c.cfg.Partition, Offset: m.Offset,
				Err: fmt.Errorf("decode: %w", err)}
			return nil, 0, c.err
		}
		t, err := c.asm.add(&rec, m.Offset, len(m.Key)+len(m.Value))
		if err != nil {
			c.err = &MessageError{Topic: c.cfg.Topic, Partition: c.cfg.Partition, Offset: m.Offset, Err: err}
			return nil, 0, c.err
		}
		if t != nil {
			return t, m.Offset, nil
		}
	}
}

func (c *Consumer) publishStats() {
	c.mu.Lock()
	c.stats = c.asm.stats
	c.mu.Unlock()
}

// Stats returns the counters as of the last return of Next.
func (c *Consumer) Stats() ConsumerStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Close stops fetching and closes the connections. It does not wait for a
// pending fetch (MaxWait): it closes the connection under it.
func (c *Consumer) Close() error {
	c.closing.Store(true)
	done := make(chan error, 1)
	go func() { done <- c.r.Close() }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c.conns.closeAll()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("close consumer for %s partition %d: %w", c.cfg.Topic, c.cfg.Partition, err)
			}
			return nil
		case <-tick.C:
		}
	}
}

// checkRun reports whether m belongs to the consumer's run, and fails when
// it does but is not the next in the run's sequence. A message of another
// run is passed over, keeping the offsets contiguous for the assembler.
func (c *Consumer) checkRun(m *kafka.Message) (bool, error) {
	run, seq, ok := runStamp(m.Headers)
	if !ok || run != c.cfg.Run {
		return false, c.asm.skip(m.Offset)
	}
	if seq != c.runSeq {
		return false, fmt.Errorf("run %x: expected message %d, got %d: %w", run, c.runSeq, seq, ErrOffsetGap)
	}
	c.runSeq++
	return true, nil
}
