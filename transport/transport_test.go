package transport

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/bgsync/bgsync/change"
)

// TestProduceConsume writes transactions of varied sizes, one of 100k rows,
// and reads them back identical.
func TestProduceConsume(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	c := newConsumer(t, e.Addrs(), topic)
	p := newProducer(t, e.Addrs(), topic)

	sizes := []int{1, 2, 17, 1000, 100_000, 3, 1}
	if testing.Short() {
		sizes[4] = 5000
	}
	var txns []*change.Txn
	for i, n := range sizes {
		txns = append(txns, makeTxn(uint64(i+1), change.Position(i+1)<<24, n))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Several calls: a batch of small transactions, then one at a time.
	if err := p.WriteTxns(ctx, txns[:4]); err != nil {
		t.Fatal(err)
	}
	for _, txn := range txns[4:] {
		if err := p.WriteTxns(ctx, []*change.Txn{txn}); err != nil {
			t.Fatal(err)
		}
	}
	expectTxns(t, c, txns...)
	total := 0
	for _, n := range sizes {
		total += n
	}
	st := c.Stats()
	if st.Txns != uint64(len(txns)) || st.Messages != uint64(total) || st.DroppedTxns != 0 {
		t.Errorf("stats = %+v, want %d txns and %d messages, none dropped", st, len(txns), total)
	}
}

func TestNextReturnsLastOffset(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	c := newConsumer(t, e.Addrs(), topic)
	p := newProducer(t, e.Addrs(), topic)
	ctx := context.Background()
	if err := p.WriteTxns(ctx, []*change.Txn{makeTxn(1, 1, 3), {ID: 9, Position: 2}, makeTxn(2, 3, 2)}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int64{2, 4} {
		_, off, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if off != want {
			t.Errorf("offset = %d, want %d", off, want)
		}
	}
}

// TestConsumerStartsAtEnd: messages written before the consumer exists are
// never delivered.
func TestConsumerStartsAtEnd(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	p := newProducer(t, e.Addrs(), topic)
	ctx := context.Background()
	old := []*change.Txn{makeTxn(1, 100, 5), makeTxn(2, 200, 7)}
	if err := p.WriteTxns(ctx, old); err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, e.Addrs(), topic)
	if c.StartOffset() != 12 {
		t.Errorf("start offset = %d, want 12", c.StartOffset())
	}
	mustNotDeliver(t, c, 300*time.Millisecond)
	fresh := makeTxn(3, 300, 4)
	if err := p.WriteTxns(ctx, []*change.Txn{fresh}); err != nil {
		t.Fatal(err)
	}
	expectTxns(t, c, fresh)
}

// TestPartialThenResend: a transaction cut short by a crashed producer,
// then sent again whole, is delivered once; the partial copy is counted.
func TestPartialThenResend(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	c := newConsumer(t, e.Addrs(), topic)
	a, b := makeTxn(1, 1000, 5), makeTxn(2, 2000, 3)
	writeRaw(t, e.Addrs(), topic, a, 0, 1, 2)
	p := newProducer(t, e.Addrs(), topic)
	if err := p.WriteTxns(context.Background(), []*change.Txn{a, b}); err != nil {
		t.Fatal(err)
	}
	expectTxns(t, c, a, b)
	st := c.Stats()
	if st.DroppedTxns != 1 || st.DroppedMessages != 3 || st.Txns != 2 {
		t.Errorf("stats = %+v, want 1 dropped txn of 3 messages and 2 txns", st)
	}
}

// TestRetriedBatchDuplicates: a produce request retried after it had
// succeeded repeats messages inside a transaction; they are ignored.
func TestRetriedBatchDuplicates(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	c := newConsumer(t, e.Addrs(), topic)
	a := makeTxn(1, 1000, 5)
	writeRaw(t, e.Addrs(), topic, a, 0, 1, 2, 3, 2, 3, 4, 3, 4)
	expectTxns(t, c, a)
	mustNotDeliver(t, c, 300*time.Millisecond) // reads the trailing duplicates
	if st := c.Stats(); st.Duplicates != 2 || st.DroppedMessages != 2 || st.DroppedTxns != 0 {
		t.Errorf("stats = %+v, want 2 duplicates and the 2-message tail after completion dropped", st)
	}
}

// TestGapIsAnError: a later transaction must not overtake a dropped one
// that was not re-sent.
func TestGapIsAnError(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	c := newConsumer(t, e.Addrs(), topic)
	a, b := makeTxn(1, 1000, 5), makeTxn(2, 2000, 3)
	writeRaw(t, e.Addrs(), topic, a, 0, 1)
	writeRaw(t, e.Addrs(), topic, b, 0, 1, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := c.Next(ctx)
	var me *MessageError
	if !errors.As(err, &me) || !errors.Is(err, ErrTxnGap) || !me.Retryable() {
		t.Fatalf("err = %v, want a retryable *MessageError wrapping ErrTxnGap", err)
	}
	if me.Topic != topic || me.Partition != 0 || me.Offset != 4 {
		t.Errorf("error names %s/%d@%d, want %s/0@4", me.Topic, me.Partition, me.Offset, topic)
	}
	if _, _, err2 := c.Next(ctx); !errors.Is(err2, ErrTxnGap) {
		t.Errorf("second Next: err = %v, want the same sticky error", err2)
	}
}

// TestUndecodableMessage names topic, partition and offset and never skips.
func TestUndecodableMessage(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	c := newConsumer(t, e.Addrs(), topic)
	a := makeTxn(1, 1000, 2)
	writeRaw(t, e.Addrs(), topic, a, 0, 1)
	bad := EncodeRecord(nil, a, 0)
	bad[1] = 9
	writeMessages(t, e.Addrs(), topic, kafka.Message{Value: bad, Time: time.Now()})
	writeRaw(t, e.Addrs(), topic, makeTxn(2, 2000, 1), 0)

	expectTxns(t, c, a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		_, _, err := c.Next(ctx)
		var me *MessageError
		if !errors.As(err, &me) || me.Offset != 2 || me.Retryable() {
			t.Fatalf("err = %v, want a non-retryable *MessageError at offset 2", err)
		}
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Version != 9 {
			t.Fatalf("err = %v, want it to wrap *VersionError 9", err)
		}
	}
}

func TestTxnTooLarge(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := NewConsumer(ctx, ConsumerConfig{Brokers: e.Addrs(), Topic: topic, MaxTxnBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := newProducer(t, e.Addrs(), topic)
	if err := p.WriteTxns(ctx, []*change.Txn{makeTxn(1, 1, 20)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Next(ctx); !errors.Is(err, ErrTxnTooLarge) {
		t.Fatalf("err = %v, want ErrTxnTooLarge", err)
	}
}

func TestEnsureTopicIdempotent(t *testing.T) {
	e := startBroker(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		if err := EnsureTopic(ctx, e.Addrs(), "bgsync.blue", 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := EnsureTopic(ctx, e.Addrs(), "bgsync.green", 0); err == nil {
		t.Fatal("0 partitions: want an error")
	}
}

// TestBrokerLostData: a broker that comes back empty on the same address
// is a retryable offset gap, not a silent skip or an endless wait.
func TestBrokerLostData(t *testing.T) {
	e, err := StartEmbedded(EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	topic := newTopic(t, e)
	p := newProducer(t, e.Addrs(), topic)
	if err := p.WriteTxns(context.Background(), []*change.Txn{makeTxn(1, 1, 5)}); err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, e.Addrs(), topic)
	_, port, _ := strings.Cut(e.Addrs()[0], ":")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	e2, err := StartEmbedded(EmbeddedOptions{Dir: t.TempDir(), Port: n})
	if err != nil {
		t.Skipf("port %d not reusable: %v", n, err)
	}
	defer e2.Close()
	newTopic(t, e2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err = c.Next(ctx)
	var me *MessageError
	if !errors.As(err, &me) || !errors.Is(err, ErrOffsetGap) || !me.Retryable() || me.Offset != 5 {
		t.Fatalf("err = %v, want a retryable offset gap at offset 5", err)
	}
}
