package transport

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/kafka-go"

	"github.com/bgsync/bgsync/change"
)

// startBroker starts an embedded broker on dir and closes it at the end of
// the test.
func startBroker(tb testing.TB, dir string) *Embedded {
	tb.Helper()
	e, err := StartEmbedded(EmbeddedOptions{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Errorf("close broker: %v", err)
		}
	})
	return e
}

// newTopic creates a one-partition topic named after the test.
func newTopic(tb testing.TB, e *Embedded) string {
	tb.Helper()
	topic := "bgsync." + strings.NewReplacer("/", ".", "#", "").Replace(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := EnsureTopic(ctx, e.Addrs(), topic, 1); err != nil {
		tb.Fatal(err)
	}
	return topic
}

func newProducer(tb testing.TB, addrs []string, topic string) *Producer {
	tb.Helper()
	p, err := NewProducer(ProducerConfig{Brokers: addrs, Topic: topic})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func newConsumer(tb testing.TB, addrs []string, topic string) *Consumer {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := NewConsumer(ctx, ConsumerConfig{Brokers: addrs, Topic: topic})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// writeRaw writes the envelopes of the given changes of t as they are,
// bypassing the Producer's checks, to fake a crashed producer.
func writeRaw(tb testing.TB, addrs []string, topic string, t *change.Txn, idx ...int) {
	tb.Helper()
	var msgs []kafka.Message
	for _, i := range idx {
		msgs = append(msgs, kafka.Message{Key: EncodeKey(&t.Changes[i]), Value: EncodeRecord(nil, t, i), Time: time.Now()})
	}
	writeMessages(tb, addrs, topic, msgs...)
}

func writeMessages(tb testing.TB, addrs []string, topic string, msgs ...kafka.Message) {
	tb.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addrs...), Topic: topic, BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll, Transport: tr}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		tb.Fatal(err)
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// expectTxns reads len(want) transactions from c and compares them.
func expectTxns(tb testing.TB, c *Consumer, want ...*change.Txn) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, w := range want {
		got, _, err := c.Next(ctx)
		if err != nil {
			tb.Fatalf("transaction %d of %d: %v", i+1, len(want), err)
		}
		if diff := diffTxn(w, got); diff != "" {
			tb.Fatalf("transaction %d (%d changes) differs (-want +got):\n%s", i+1, len(w.Changes), diff)
		}
	}
}

// diffTxn compares transactions with cmp. cmp takes seconds for 100k
// changes, so large ones are compared by their canonical envelopes (equal
// bytes mean equal changes) and cmp shows the first change that differs.
func diffTxn(want, got *change.Txn) string {
	if len(want.Changes) <= 5000 || len(want.Changes) != len(got.Changes) {
		return cmp.Diff(want, got, cmpOpts...)
	}
	h := func(t *change.Txn) change.Txn { c := *t; c.Changes = nil; return c }
	if diff := cmp.Diff(h(want), h(got), cmpOpts...); diff != "" {
		return diff
	}
	var a, b []byte
	for i := range want.Changes {
		a, b = EncodeRecord(a[:0], want, i), EncodeRecord(b[:0], got, i)
		if !bytes.Equal(a, b) {
			return fmt.Sprintf("change %d:\n%s", i, cmp.Diff(want.Changes[i], got.Changes[i], cmpOpts...))
		}
	}
	return ""
}

// mustNotDeliver checks that Next has nothing within d.
func mustNotDeliver(tb testing.TB, c *Consumer, d time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if t, off, err := c.Next(ctx); err == nil {
		tb.Fatalf("unexpected transaction at %s (offset %d)", t.Position, off)
	} else if ctx.Err() == nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}
