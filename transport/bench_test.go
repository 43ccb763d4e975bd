package transport

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

// benchTxnRows is the size of the transactions the benchmarks move.
const benchTxnRows = 1000

// benchTxns returns n transactions of benchTxnRows changes.
func benchTxns(n int) []*change.Txn {
	out := make([]*change.Txn, n)
	for i := range out {
		out[i] = makeTxn(uint64(i+1), change.Position(i+1), benchTxnRows)
	}
	return out
}

// BenchmarkProduce writes transactions of 1000 (and 10) rows, one
// WriteTxns call each, with and without SyncWrites; the metric is messages
// acknowledged per second.
func BenchmarkProduce(b *testing.B) {
	for _, rows := range []int{benchTxnRows, 10} {
		for _, sync := range []bool{false, true} {
			for _, run := range []uint64{0, 1} {
				b.Run(fmt.Sprintf("rows=%d/sync=%t/run=%d", rows, sync, run), func(b *testing.B) {
					benchProduce(b, rows, sync, run)
				})
			}
		}
	}
}

func benchProduce(b *testing.B, rows int, sync bool, run uint64) {
	e, err := StartEmbedded(EmbeddedOptions{Dir: b.TempDir(), SyncWrites: sync})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	topic := newTopic(b, e)
	p := runProducer(b, e.Addrs(), topic, run)
	txns := make([]*change.Txn, 16)
	for i := range txns {
		txns[i] = makeTxn(uint64(i+1), change.Position(i+1), rows)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := p.WriteTxns(ctx, txns[i%len(txns):i%len(txns)+1]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*rows)/time.Since(start).Seconds(), "msgs/s")
	b.StopTimer()
}

// BenchmarkConsume reads b.N 1k-row transactions written beforehand; the
// metric is messages decoded into transactions per second. BENCH_MAXBYTES
// overrides the fetch size.
func BenchmarkConsume(b *testing.B) {
	for _, run := range []uint64{0, 1} {
		b.Run(fmt.Sprintf("run=%d", run), func(b *testing.B) { benchConsume(b, run) })
	}
}

func benchConsume(b *testing.B, run uint64) {
	e := startBroker(b, b.TempDir())
	topic := newTopic(b, e)
	ctx := context.Background()
	cfg := ConsumerConfig{Brokers: e.Addrs(), Topic: topic, Run: run}
	if v, err := strconv.Atoi(os.Getenv("BENCH_MAXBYTES")); err == nil {
		cfg.MaxBytes = v
	}
	c, err := NewConsumer(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := runProducer(b, e.Addrs(), topic, run)
	txns := benchTxns(16)
	for i := range b.N {
		txn := *txns[i%len(txns)]
		txn.Position = change.Position(i + 1)
		if err := p.WriteTxns(ctx, []*change.Txn{&txn}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, _, err := c.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchTxnRows)/time.Since(start).Seconds(), "msgs/s")
	b.StopTimer()
}

// BenchmarkEncode and BenchmarkDecode measure the envelope alone.
func BenchmarkEncode(b *testing.B) {
	txn := makeTxn(1, 1, benchTxnRows)
	var buf []byte
	b.ReportAllocs()
	for i := range b.N {
		buf = EncodeRecord(buf[:0], txn, i%benchTxnRows)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecode(b *testing.B) {
	txn := makeTxn(1, 1, benchTxnRows)
	recs := make([][]byte, benchTxnRows)
	for i := range recs {
		recs[i] = EncodeRecord(nil, txn, i)
	}
	d := new(RecordDecoder)
	b.ReportAllocs()
	for i := range b.N {
		if _, err := d.Decode(recs[i%benchTxnRows]); err != nil {
			b.Fatal(err)
		}
	}
}
