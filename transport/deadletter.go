package transport

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// DeadLetterWriter writes dead letters (JSON documents describing source
// changes a transform could not map) to a topic of their own, for tools
// that watch it. The dead_letters table on the target is the record; the
// topic is a copy, written at least once.
type DeadLetterWriter struct {
	w *kafka.Writer
}

// NewDeadLetterWriter returns a writer to topic; it connects on the first
// write.
func NewDeadLetterWriter(brokers []string, topic string) *DeadLetterWriter {
	return &DeadLetterWriter{w: &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     fixedPartition(0),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond,
		WriteTimeout: 10 * time.Second,
		Transport:    &kafka.Transport{},
	}}
}

// Write writes one message per document, keyed by keys[i], and returns
// once the broker has acknowledged them.
func (d *DeadLetterWriter) Write(ctx context.Context, keys, docs [][]byte) error {
	msgs := make([]kafka.Message, len(docs))
	for i := range docs {
		msgs[i] = kafka.Message{Key: keys[i], Value: docs[i]}
	}
	if err := d.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write dead letters to %s: %w", d.w.Topic, err)
	}
	return nil
}

// Close closes the writer.
func (d *DeadLetterWriter) Close() error { return d.w.Close() }
