package transport

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

func TestProducerRejectsBadTxn(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	p := newProducer(t, e.Addrs(), topic)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	badSeq := makeTxn(1, 1, 3)
	badSeq.Changes[2].Seq = 7
	short := makeTxn(2, 2, 1)
	short.Changes[0].After = short.Changes[0].After[:2]
	for want, txn := range map[string]*change.Txn{"has Seq 7": badSeq, "image length": short} {
		if err := p.WriteTxns(ctx, []*change.Txn{txn}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	// Nothing was written, so the producer is still usable.
	if err := p.WriteTxns(ctx, []*change.Txn{makeTxn(3, 3, 2)}); err != nil {
		t.Fatalf("after rejected transactions: %v", err)
	}
}

func TestProducerMessageTooLarge(t *testing.T) {
	e := startBroker(t, t.TempDir())
	topic := newTopic(t, e)
	p, err := NewProducer(ProducerConfig{Brokers: e.Addrs(), Topic: topic, BatchBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.WriteTxns(context.Background(), []*change.Txn{makeTxn(1, 1, 3)})
	if !errors.Is(err, ErrMessageTooLarge) || !strings.Contains(err.Error(), "public.accounts") {
		t.Fatalf("err = %v, want ErrMessageTooLarge naming the table", err)
	}
}

// TestProducerUnusableAfterFailure: once a write failed, the producer
// refuses further writes, so that no later transaction lands after a hole.
func TestProducerUnusableAfterFailure(t *testing.T) {
	e, err := StartEmbedded(EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	topic := newTopic(t, e)
	p, err := NewProducer(ProducerConfig{Brokers: e.Addrs(), Topic: topic, MaxAttempts: 1, WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.WriteTxns(ctx, []*change.Txn{makeTxn(1, 1, 2)}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteTxns(ctx, []*change.Txn{makeTxn(2, 2, 2)}); err == nil {
		t.Fatal("write to a closed broker succeeded")
	}
	err = p.WriteTxns(ctx, []*change.Txn{makeTxn(3, 3, 2)})
	if err == nil || !strings.Contains(err.Error(), "unusable") {
		t.Fatalf("err = %v, want the producer to refuse", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (&ProducerConfig{}).Validate(); err == nil {
		t.Error("empty producer config validated")
	}
	if err := (&ConsumerConfig{Brokers: []string{"x"}}).Validate(); err == nil {
		t.Error("consumer config without topic validated")
	}
	if err := (&EmbeddedOptions{}).Validate(); err == nil {
		t.Error("embedded options without a directory validated")
	}
}
