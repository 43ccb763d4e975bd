package postgres_test

import (
	"context"
	"testing"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/testenv"
)

// A run of updates long enough to be staged, in which keys repeat (the last
// image must win), TOASTed values stay unsent, and one row is missing.
func TestStagedUpdates(t *testing.T) {
	dsn := testenv.NewDatabase(t, testenv.GreenDSN())
	db := testenv.Connect(t, dsn)
	testenv.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY, big text, n int)`,
		`INSERT INTO items SELECT g, 'big' || g, 0 FROM generate_series(1, 200) g`)
	ctx := context.Background()
	a, err := applypg.Open(ctx, applypg.Config{DSN: dsn, Schema: "bgsync", Direction: "d", From: conflict.Blue})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var cs []change.Change
	upd := func(id, n int64) {
		cs = append(cs, change.Change{Op: change.OpUpdate, Table: items, Columns: cols,
			After: change.Row{change.Int(id), change.Unchanged(), change.Int(n)}})
	}
	for round := int64(1); round <= 3; round++ { // keys 1..100 three times: two splits
		for id := int64(1); id <= 100; id++ {
			upd(id, round*1000+id)
		}
	}
	upd(999, 1) // missing on the target, and too incomplete to insert
	res, err := a.Apply(ctx, []*change.Txn{txn(10, cs...)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated != 300 || res.Conflicts[applypg.ConflictLabel{Kind: "update_missing", Resolution: "unresolved"}] != 1 {
		t.Errorf("updated %d conflicts %v, want 300 and one unresolved update_missing", res.Updated, res.Conflicts)
	}
	var bad int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM items WHERE
		(id <= 100 AND (n <> 3000 + id OR big <> 'big' || id)) OR (id > 100 AND (n <> 0 OR big <> 'big' || id))`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d rows differ from the last image", bad)
	}
	// The staging table is empty after commit and reused by the next run.
	cs = nil
	for id := int64(101); id <= 200; id++ {
		upd(id, 7)
	}
	if _, err := a.Apply(ctx, []*change.Txn{txn(11, cs...)}, 0); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM items WHERE n = 7`).Scan(&n); err != nil || n != 100 {
		t.Fatalf("second staged run updated %d rows (%v), want 100", n, err)
	}
}
