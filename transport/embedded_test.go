package transport

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/bgsync/bgsync/change"
)

// TestEmbeddedRestartKeepsMessages: produce, close, restart on the same
// directory, read everything back from offset 0.
func TestEmbeddedRestartKeepsMessages(t *testing.T) {
	dir := t.TempDir()
	e, err := StartEmbedded(EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	topic := newTopic(t, e)
	txns := []*change.Txn{makeTxn(1, 10, 1), makeTxn(2, 20, 1000), makeTxn(3, 30, 7)}
	p := newProducer(t, e.Addrs(), topic)
	if err := p.WriteTxns(context.Background(), txns); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := startBroker(t, dir)
	got := readFrom(t, e2.Addrs(), topic, 0, len(txns))
	for i := range txns {
		if diff := cmpDiff(txns[i], got[i]); diff != "" {
			t.Fatalf("transaction %d after restart (-want +got):\n%s", i, diff)
		}
	}
	// The topic is still known: EnsureTopic is a no-op and a new consumer
	// starts after the persisted messages.
	if err := EnsureTopic(context.Background(), e2.Addrs(), topic, 1); err != nil {
		t.Fatal(err)
	}
	if c := newConsumer(t, e2.Addrs(), topic); c.StartOffset() != 1008 {
		t.Errorf("start offset after restart = %d, want 1008", c.StartOffset())
	}
}

// readFrom reads n transactions from offset with a plain reader.
func readFrom(tb testing.TB, addrs []string, topic string, offset int64, n int) []*change.Txn {
	tb.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: addrs, Topic: topic, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	asm := newAssembler(offset, 1<<30)
	var out []*change.Txn
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			tb.Fatalf("after %d transactions: %v", len(out), err)
		}
		rec, err := DecodeRecord(m.Value)
		if err != nil {
			tb.Fatalf("offset %d: %v", m.Offset, err)
		}
		txn, err := asm.add(&rec, m.Offset, len(m.Value))
		if err != nil {
			tb.Fatal(err)
		}
		if txn != nil {
			out = append(out, txn)
		}
	}
	return out
}

func TestEmbeddedDirLocked(t *testing.T) {
	dir := t.TempDir()
	startBroker(t, dir)
	if e, err := StartEmbedded(EmbeddedOptions{Dir: dir}); err == nil {
		e.Close()
		t.Fatal("second broker on the same directory started")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("err = %v, want 'in use'", err)
	}
}

func TestEmbeddedPortAndCloseTwice(t *testing.T) {
	e, err := StartEmbedded(EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	addrs := e.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "127.0.0.1:") || strings.HasSuffix(addrs[0], ":0") {
		t.Fatalf("addrs = %v, want one 127.0.0.1 address with a chosen port", addrs)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestEmbeddedLogger: kfake's logs go to the injected logger and nowhere
// else.
func TestEmbeddedLogger(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	lg.Info("probe")
	k := &kfakeLogger{l: lg}
	k.Logf(3, "request from %s", "client")
	k.startCollecting()
	k.Logf(1, "persist to disk: %v", "disk full")
	out := buf.String()
	if !strings.Contains(out, "level=DEBUG msg=\"request from client\" component=kfake") ||
		!strings.Contains(out, "level=ERROR msg=\"persist to disk: disk full\"") {
		t.Fatalf("log output:\n%s", out)
	}
	if err := k.collected(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("collected = %v", err)
	}
}
