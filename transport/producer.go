package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/bgsync/bgsync/change"
)

// ProducerConfig configures a Producer. Zero values get the defaults noted.
type ProducerConfig struct {
	Brokers []string
	Topic   string
	// Run, when not zero, stamps every message with this run id and a
	// sequence number counting from 0 (header RunHeader), so a consumer of
	// the same run can tell its messages from late ones of earlier runs and
	// notice any that are missing. See ConsumerConfig.Run.
	Run uint64
	// Partition receives every message (default 0): one partition keeps
	// source order and transaction atomicity.
	Partition int
	// Codec encodes the messages (default Binary).
	Codec Codec
	// BatchBytes is the largest produce request per partition (default
	// 1,000,000, below Kafka's default message.max.bytes of 1,048,588). A
	// single row change larger than this is an error: raise it together
	// with the broker's message.max.bytes for very large rows.
	BatchBytes int64
	// BatchSize caps the messages per produce request (default 4096).
	// kafka-go preallocates this many messages per batch, so keep it near
	// BatchBytes / the typical message size.
	BatchSize int
	// BatchTimeout is how long the last, partial batch of a WriteTxns call
	// waits before it is sent (default 50 µs). Calls are synchronous and
	// serialized, so nothing else can fill it: any wait is latency.
	// (kafka-go's own default of 1 s makes small writes crawl; 1 ms costs
	// a third of the throughput of 1000-row calls.)
	BatchTimeout time.Duration
	// MaxAttempts is how often a failed produce request is tried (default
	// 5) before WriteTxns fails.
	MaxAttempts int
	// WriteTimeout bounds one produce request (default 30 s).
	WriteTimeout time.Duration
	// Logger receives kafka-go's error logs (default: discard).
	Logger *slog.Logger
}

// Validate reports a missing or unusable setting.
func (c *ProducerConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("producer: no brokers"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("producer: topic is empty"))
	}
	if c.Partition < 0 || c.BatchBytes < 0 || c.BatchSize < 0 || c.MaxAttempts < 0 {
		errs = append(errs, errors.New("producer: negative Partition, BatchBytes, BatchSize or MaxAttempts"))
	}
	return errors.Join(errs...)
}

func (c *ProducerConfig) withDefaults() ProducerConfig {
	out := *c
	if out.Codec == nil {
		out.Codec = Binary
	}
	if out.BatchBytes == 0 {
		out.BatchBytes = 1_000_000
	}
	if out.BatchSize == 0 {
		out.BatchSize = 4096
	}
	if out.BatchTimeout <= 0 {
		out.BatchTimeout = 50 * time.Microsecond
	}
	if out.MaxAttempts == 0 {
		out.MaxAttempts = 5
	}
	if out.WriteTimeout <= 0 {
		out.WriteTimeout = 30 * time.Second
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// chunkBytes is how many encoded bytes one WriteMessages call carries at
// most (a whole transaction larger than this is written in several calls,
// in order), which bounds the producer's buffers.
const chunkBytes = 32 << 20

// Producer writes source transactions to one partition of a topic, one
// message per row change. It is safe for concurrent use, but calls are
// serialized: messages of one call are contiguous and in order.
type Producer struct {
	cfg ProducerConfig
	w   *kafka.Writer
	tr  *kafka.Transport

	mu    sync.Mutex
	err   error // the first failed write: the producer is unusable after it
	buf   []byte
	spans []span
	msgs  []kafka.Message
	seq   uint64 // next run sequence number (see ProducerConfig.Run)
	hdrs  []kafka.Header
	stamp []byte
}

// NewProducer returns a producer; it connects on the first write.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	tr := &kafka.Transport{}
	errLog := c.Logger.With("component", "kafka-writer", "topic", c.Topic)
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.Topic,
		Balancer:     fixedPartition(c.Partition),
		MaxAttempts:  c.MaxAttempts,
		BatchSize:    c.BatchSize,
		BatchBytes:   c.BatchBytes,
		BatchTimeout: c.BatchTimeout,
		WriteTimeout: c.WriteTimeout,
		RequiredAcks: kafka.RequireAll,
		Transport:    tr,
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			errLog.Warn(fmt.Sprintf(format, args...))
		}),
	}
	return &Producer{cfg: c, w: w, tr: tr}, nil
}

// WriteTxns writes every change of txns, in order, and returns only once the
// broker has acknowledged all of them (acks=all). A transaction without
// changes produces no message.
//
// On error, some messages of these transactions may be in the topic and
// others not, so a consumer can see a partial transaction (it drops it).
// The producer is then unusable: every later call returns the error, and
// the direction must restart, which makes the source re-send everything
// not yet applied.
func (p *Producer) WriteTxns(ctx context.Context, txns []*change.Txn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return fmt.Errorf("producer for %s: unusable after an earlier failed write: %w", p.cfg.Topic, p.err)
	}
	for _, t := range txns {
		if err := validateTxn(t); err != nil {
			return fmt.Errorf("producer for %s: %w", p.cfg.Topic, err)
		}
	}
	p.buf, p.spans = p.buf[:0], p.spans[:0]
	for _, t := range txns {
		for i := range t.Changes {
			start := len(p.buf)
			p.buf = p.cfg.Codec.AppendKey(p.buf, &t.Changes[i])
			mid := len(p.buf)
			p.buf = p.cfg.Codec.AppendValue(p.buf, t, i)
			p.spans = append(p.spans, span{start, mid, len(p.buf)})
			if size := int64(len(p.buf) - start + messageOverhead); size > p.cfg.BatchBytes {
				p.err = fmt.Errorf("change %d of transaction %d at %s on %s takes %d bytes, more than BatchBytes (%d): %w",
					i, t.ID, t.Position, t.Changes[i].Table, size, p.cfg.BatchBytes, ErrMessageTooLarge)
				return fmt.Errorf("producer for %s: %w", p.cfg.Topic, p.err)
			}
			if len(p.buf) >= chunkBytes {
				if err := p.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
	return p.flush(ctx)
}

// messageOverhead is what kafka-go counts per message besides key and
// value when it compares a message with BatchBytes.
const messageOverhead = 22

// span locates one message's key (start:mid) and value (mid:end) in buf.
type span struct{ start, mid, end int }

// flush writes the messages buffered so far and waits for their
// acknowledgement.
func (p *Producer) flush(ctx context.Context) error {
	if len(p.spans) == 0 {
		return nil
	}
	// The message timestamp is the write time, which is what retention
	// goes by (a zero time would be 1970 and expire at once).
	now := time.Now()
	p.msgs = p.msgs[:0]
	if p.cfg.Run != 0 {
		p.hdrs = make([]kafka.Header, len(p.spans)) // fresh: kafka-go may keep them on error
		p.stamp = make([]byte, 0, runStampLen*len(p.spans))
	}
	for i, s := range p.spans {
		m := kafka.Message{
			Key:   p.buf[s.start:s.mid:s.mid],
			Value: p.buf[s.mid:s.end:s.end],
			Time:  now,
		}
		if p.cfg.Run != 0 {
			start := len(p.stamp)
			p.stamp = appendRunStamp(p.stamp, p.cfg.Run, p.seq)
			p.seq++
			p.hdrs[i] = kafka.Header{Key: RunHeader, Value: p.stamp[start:len(p.stamp):len(p.stamp)]}
			m.Headers = p.hdrs[i : i+1 : i+1]
		}
		p.msgs = append(p.msgs, m)
	}
	n := len(p.msgs)
	if err := p.w.WriteMessages(ctx, p.msgs...); err != nil {
		// kafka-go may still hold the buffers (on cancellation): never
		// reuse them.
		p.buf, p.spans, p.msgs = nil, nil, nil
		p.err = err
		return fmt.Errorf("produce %d messages to %s: %w", n, p.cfg.Topic, err)
	}
	clear(p.msgs) // drop references to the buffer
	p.buf, p.spans, p.msgs = p.buf[:0], p.spans[:0], p.msgs[:0]
	return nil
}

// Close flushes nothing (WriteTxns is synchronous) and waits for kafka-go's
// background work to end, then closes the connections. A direction restart
// must close the old producer before it constructs the new consumer, so
// that no late message of the old run lands after the new consumer's start
// offset.
func (p *Producer) Close() error {
	err := p.w.Close()
	p.tr.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("close producer for %s: %w", p.cfg.Topic, err)
	}
	return nil
}

// validateTxn checks what the consumer relies on to rebuild transactions.
func validateTxn(t *change.Txn) error {
	if uint64(len(t.Changes)) > 1<<32-1 {
		return fmt.Errorf("transaction %d at %s: %d changes exceed the envelope's limit", t.ID, t.Position, len(t.Changes))
	}
	for i := range t.Changes {
		c := &t.Changes[i]
		if c.Seq != uint32(i) {
			return fmt.Errorf("transaction %d at %s: change %d has Seq %d", t.ID, t.Position, i, c.Seq)
		}
		if c.Op < change.OpInsert || c.Op > change.OpTruncate {
			return fmt.Errorf("transaction %d at %s: change %d: op %d unknown", t.ID, t.Position, i, c.Op)
		}
		if (c.Before != nil && len(c.Before) != len(c.Columns)) || (c.After != nil && len(c.After) != len(c.Columns)) {
			return fmt.Errorf("transaction %d at %s: change %d on %s: image length differs from its %d columns",
				t.ID, t.Position, i, c.Table, len(c.Columns))
		}
	}
	return nil
}

// fixedPartition sends every message to one partition.
type fixedPartition int

func (f fixedPartition) Balance(_ kafka.Message, _ ...int) int { return int(f) }
