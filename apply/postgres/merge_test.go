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

// TestColumnMergeOnTarget: with the column-write trigger on the table, the
// applier learns which columns the target's application wrote and when.
// An incoming update of another column is merged in even though it was
// committed before the application's write; an incoming update of the
// column the application wrote later is dropped.
func TestColumnMergeOnTarget(t *testing.T) {
	_, db, a := conflictTarget(t, conflict.Rule{Policy: conflict.ColumnMerge})
	ctx := context.Background()
	for _, sql := range append(applypg.TombstoneTriggerSQL("bgsync", items, []string{"id"}),
		applypg.ColumnTriggerSQL("bgsync", items, []string{"id"}, true)...) {
		testenv.Exec(t, db, sql)
	}
	if _, err := a.Apply(ctx, []*change.Txn{txn(100, ins(1, "x", 1))}, 1); err != nil {
		t.Fatal(err)
	}
	var recorded int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM bgsync.column_writes`).Scan(&recorded); err != nil || recorded != 0 {
		t.Fatalf("%d column writes recorded for the applier's insert (%v), want 0", recorded, err)
	}
	testenv.Exec(t, db, `UPDATE items SET big = 'app' WHERE id = 1`)
	var written string
	if err := db.QueryRow(ctx, `SELECT string_agg(c, ',' ORDER BY c) FROM bgsync.column_writes, jsonb_object_keys(cols) c`).Scan(&written); err != nil || written != "big" {
		t.Fatalf("column writes recorded: %q (%v), want big", written, err)
	}

	upd := func(pos change.Position, before, after change.Row) *change.Txn {
		x := txn(pos, change.Change{Op: change.OpUpdate, Table: items, Columns: cols, Before: before, After: after})
		x.CommitTime = time.Now().Add(-time.Hour) // before the application's write
		return x
	}
	res, err := a.Apply(ctx, []*change.Txn{
		upd(200, change.Row{change.Int(1), change.Text("x"), change.Int(1)}, change.Row{change.Int(1), change.Text("x"), change.Int(2)}),
	}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Conflicts[applypg.ConflictLabel{Kind: "update_differs", Resolution: "merged"}]; n != 1 {
		t.Fatalf("conflicts %v, want one update_differs/merged", res.Conflicts)
	}
	res, err = a.Apply(ctx, []*change.Txn{
		upd(300, change.Row{change.Int(1), change.Text("x"), change.Int(2)}, change.Row{change.Int(1), change.Text("blue"), change.Int(2)}),
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Conflicts[applypg.ConflictLabel{Kind: "update_differs", Resolution: "target_wins"}]; n != 1 {
		t.Fatalf("conflicts %v, want one update_differs/target_wins", res.Conflicts)
	}
	var got string
	if err := db.QueryRow(ctx, `SELECT format('%s:%s', big, n) FROM items WHERE id = 1`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "app:2" {
		t.Fatalf("row 1 is %s, want app:2 (the application's big, blue's n)", got)
	}
	// A local delete (the tombstone trigger) forgets the row's column writes.
	testenv.Exec(t, db, `DELETE FROM items WHERE id = 1`)
	if err := db.QueryRow(ctx, `SELECT count(*) FROM bgsync.column_writes`).Scan(&recorded); err != nil || recorded != 0 {
		t.Fatalf("%d column writes left after the delete (%v)", recorded, err)
	}
}
