package postgres_test

import (
	"context"
	"testing"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/testenv"
)

var items = change.Table{Schema: "public", Name: "items"}

var cols = []change.Column{{Name: "id", Key: true}, {Name: "big"}, {Name: "n"}}

func ins(id int64, big string, n int64) change.Change {
	return change.Change{Op: change.OpInsert, Table: items, Columns: cols,
		After: change.Row{change.Int(id), change.Text(big), change.Int(n)}}
}

func txn(pos change.Position, cs ...change.Change) *change.Txn {
	for i := range cs {
		cs[i].Seq = uint32(i)
	}
	return &change.Txn{ID: uint64(pos), Position: pos, CommitTime: time.Now(), Changes: cs}
}

func TestApplyOperationsAndReplay(t *testing.T) {
	dsn := testenv.NewDatabase(t, testenv.GreenDSN())
	db := testenv.Connect(t, dsn)
	testenv.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY, big text, n int)`, `CREATE TABLE other (id int PRIMARY KEY)`,
		`INSERT INTO other VALUES (1), (2)`)
	ctx := context.Background()
	open := func() *applypg.Applier {
		a, err := applypg.Open(ctx, applypg.Config{DSN: dsn, Schema: "bgsync", Direction: "blue-to-green", From: conflict.Blue})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		return a
	}
	a := open()
	batch := []*change.Txn{
		txn(100, ins(1, "keep-me", 1), ins(2, "b", 2), ins(3, "c", 3)),
		// update 1 without sending the TOASTed column; update 2's key 2 → 20
		txn(200,
			change.Change{Op: change.OpUpdate, Table: items, Columns: cols,
				After: change.Row{change.Int(1), change.Unchanged(), change.Int(10)}},
			change.Change{Op: change.OpUpdate, Table: items, Columns: cols,
				Before: change.Row{change.Int(2), change.Absent(), change.Absent()},
				After:  change.Row{change.Int(20), change.Text("b"), change.Int(2)}},
			change.Change{Op: change.OpDelete, Table: items, Columns: cols,
				Before: change.Row{change.Int(3), change.Absent(), change.Absent()}},
			// a delete of a row that is not there is a conflict, logged
			change.Change{Op: change.OpDelete, Table: items, Columns: cols,
				Before: change.Row{change.Int(99), change.Absent(), change.Absent()}},
		),
		txn(300, change.Change{Op: change.OpTruncate, Table: change.Table{Schema: "public", Name: "other"},
			Truncate: []change.Table{{Schema: "public", Name: "other"}}}),
	}
	res, err := a.Apply(ctx, batch, 42)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 3 || res.Inserted != 3 || res.Updated != 2 || res.Deleted != 1 || res.Position != 300 ||
		len(res.Conflicts) != 1 || res.Conflicts[applypg.ConflictLabel{Kind: "delete_missing", Resolution: "converged"}] != 1 {
		t.Fatalf("result %+v", res)
	}
	var logged string
	if err := db.QueryRow(ctx, `SELECT format('%s %s %s %s %s %s', direction, table_name, key, kind, resolution, resolved)
		FROM bgsync.conflicts`).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	if want := `blue-to-green public.items {"id": "99"} delete_missing converged t`; logged != want {
		t.Fatalf("conflict log: %s, want %s", logged, want)
	}
	check := func() {
		t.Helper()
		var got string
		if err := db.QueryRow(ctx, `SELECT string_agg(format('%s:%s:%s', id, big, n), ',' ORDER BY id) FROM items`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := "1:keep-me:10,20:b:2"; got != want {
			t.Fatalf("items = %s, want %s", got, want)
		}
		var others int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM other`).Scan(&others); err != nil || others != 0 {
			t.Fatalf("other has %d rows (err %v), want 0 after truncate", others, err)
		}
	}
	check()

	// A new applier (as after a crash) reads the checkpoint and skips the
	// whole replay; a later transaction in the same group still applies.
	a.Close()
	b := open()
	if b.Checkpoint() != 300 {
		t.Fatalf("checkpoint after reopen = %s", b.Checkpoint())
	}
	res, err = b.Apply(ctx, append(batch, txn(400, ins(4, "d", 4))), 43)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 3 || res.Applied != 1 || res.Position != 400 {
		t.Fatalf("replay result %+v", res)
	}
	var kafkaOff int64
	var txns int
	if err := db.QueryRow(ctx, `SELECT kafka_offset, txns_applied FROM bgsync.checkpoints WHERE direction = 'blue-to-green'`).Scan(&kafkaOff, &txns); err != nil {
		t.Fatal(err)
	}
	if kafkaOff != 43 || txns != 4 {
		t.Errorf("checkpoint row: offset %d txns %d", kafkaOff, txns)
	}

	// A failing statement rolls back the whole group, checkpoint included.
	testenv.Exec(t, db, `ALTER TABLE items ADD CHECK (n < 1000)`)
	_, err = b.Apply(ctx, []*change.Txn{txn(500, ins(5, "e", 5), ins(6, "too big", 1000))}, 44)
	if err == nil {
		t.Fatal("a row violating a check constraint applied")
	}
	var ae *applypg.ApplyError
	if !asApplyError(err, &ae) || ae.Table != items || ae.Position != 500 {
		t.Fatalf("error %v does not name table and position", err)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM items WHERE id = 5`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("row 5 present after failed group: %d %v", n, err)
	}
}
