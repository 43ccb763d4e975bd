package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/testenv"
)

// BenchmarkApply measures the applier alone on the real green cluster:
// 1k-row source transactions grouped 5 per target transaction, ~150-byte
// rows, first as inserts, then as updates of the same rows.
func BenchmarkApply(b *testing.B) {
	dsn := testenv.NewDatabase(b, testenv.GreenDSN())
	db := testenv.Connect(b, dsn)
	testenv.Exec(b, db, `CREATE TABLE bench (id bigint PRIMARY KEY, a int, b text, c numeric(12,2), d timestamptz)`)
	a, err := applypg.Open(context.Background(), applypg.Config{DSN: dsn, Schema: "bgsync", Direction: "bench", From: conflict.Blue})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	tb := change.Table{Schema: "public", Name: "bench"}
	cols := []change.Column{{Name: "id", Key: true}, {Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}}
	text := strings.Repeat("x", 100)
	pos := change.Position(0)
	mk := func(op change.Op, first int64) *change.Txn {
		pos++
		t := &change.Txn{ID: uint64(pos), Position: pos, CommitTime: time.Now()}
		for i := int64(0); i < 1000; i++ {
			t.Changes = append(t.Changes, change.Change{Op: op, Table: tb, Columns: cols, Seq: uint32(i),
				After: change.Row{change.Int(first + i), change.Int(i), change.Text(text), change.Numeric("12.34"),
					change.TimestampTZOf(time.Now())}})
		}
		return t
	}
	inserted := int64(0) // rows 0..inserted-1 exist
	for _, op := range []change.Op{change.OpInsert, change.OpUpdate} {
		b.Run(op.String(), func(b *testing.B) {
			rows := 0
			next := int64(0)
			for n := 0; n < b.N; n++ {
				group := make([]*change.Txn, 5)
				for i := range group {
					if op == change.OpInsert {
						group[i] = mk(op, inserted)
						inserted += 1000
					} else {
						group[i] = mk(op, next%inserted)
						next += 1000
					}
				}
				if _, err := a.Apply(context.Background(), group, 0); err != nil {
					b.Fatal(err)
				}
				rows += 5000
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
