package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

func runProducer(tb testing.TB, addrs []string, topic string, run uint64) *Producer {
	tb.Helper()
	p, err := NewProducer(ProducerConfig{Brokers: addrs, Topic: topic, Run: run})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func runConsumer(tb testing.TB, addrs []string, topic string, run uint64) *Consumer {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := NewConsumer(ctx, ConsumerConfig{Brokers: addrs, Topic: topic, Run: run})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// A complete transaction of an earlier run that lands after the new run's
// consumer started is passed over, never applied ahead of what the new run
// re-sends; the new run's own messages come through in order.
func TestRunStampPassesOverEarlierRuns(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	ctx := context.Background()
	cons := runConsumer(t, e.Addrs(), topic, 2) // run 2 starts: consumer first
	old := runProducer(t, e.Addrs(), topic, 1)  // run 1's late write lands now
	if err := old.WriteTxns(ctx, []*change.Txn{makeTxn(5, 500, 3)}); err != nil {
		t.Fatal(err)
	}
	unstamped := newProducer(t, e.Addrs(), topic) // and a message with no stamp at all
	if err := unstamped.WriteTxns(ctx, []*change.Txn{makeTxn(6, 600, 1)}); err != nil {
		t.Fatal(err)
	}
	cur := runProducer(t, e.Addrs(), topic, 2)
	want := []*change.Txn{makeTxn(1, 100, 2), makeTxn(2, 200, 1)}
	if err := cur.WriteTxns(ctx, want); err != nil {
		t.Fatal(err)
	}
	expectTxns(t, cons, want...)
	if s := cons.Stats(); s.OtherRuns != 4 {
		t.Errorf("OtherRuns = %d, want 4", s.OtherRuns)
	}
}

// A message missing from the run's sequence is a gap error, not a skip.
func TestRunStampGapIsAnError(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	ctx := context.Background()
	prod := runProducer(t, e.Addrs(), topic, 7)
	if err := prod.WriteTxns(ctx, []*change.Txn{makeTxn(1, 100, 2)}); err != nil {
		t.Fatal(err)
	}
	// A consumer of run 7 that starts after the run's first messages (as if
	// the log had lost them) must not accept message 2 as its first.
	cons := runConsumer(t, e.Addrs(), topic, 7)
	if err := prod.WriteTxns(ctx, []*change.Txn{makeTxn(2, 200, 1)}); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if txn, _, err := cons.Next(rctx); !errors.Is(err, ErrOffsetGap) {
		t.Fatalf("Next = %v, %v; want ErrOffsetGap", txn, err)
	}
}
