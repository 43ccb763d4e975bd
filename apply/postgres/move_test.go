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

// TestKeyMoveOntoExistingKey: an update that changes a row's primary key
// to a key the target's application inserted meanwhile is an insert_exists
// conflict at the new key, decided by the rule (here last-writer-wins),
// not a unique violation retried forever. The old key goes either way.
func TestKeyMoveOntoExistingKey(t *testing.T) {
	_, db, a := conflictTarget(t, conflict.Rule{})
	ctx := context.Background()
	if _, err := a.Apply(ctx, []*change.Txn{txn(100, ins(1, "one", 1), ins(2, "two", 2))}, 1); err != nil {
		t.Fatal(err)
	}
	testenv.Exec(t, db, `INSERT INTO items VALUES (7, 'app', 70), (8, 'app', 80)`)

	move := func(from, to int64, big string) change.Change {
		return change.Change{Op: change.OpUpdate, Table: items, Columns: cols,
			Before: change.Row{change.Int(from), change.Text(big), change.Int(from)},
			After:  change.Row{change.Int(to), change.Text(big + "-moved"), change.Int(from)}}
	}
	// 1 → 7 was committed on blue before green's insert of 7: green's row
	// stays. 2 → 8 was committed after green's insert of 8: blue's row wins.
	older := txn(200, move(1, 7, "one"))
	older.CommitTime = time.Now().Add(-time.Hour)
	newer := txn(300, move(2, 8, "two"))
	newer.CommitTime = time.Now().Add(time.Hour)
	res, err := a.Apply(ctx, []*change.Txn{older, newer}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Retries != 0 || res.Position != 300 ||
		res.Conflicts[applypg.ConflictLabel{Kind: "insert_exists", Resolution: "target_wins"}] != 1 ||
		res.Conflicts[applypg.ConflictLabel{Kind: "insert_exists", Resolution: "incoming_wins"}] != 1 {
		t.Fatalf("result %+v", res)
	}
	var rows string
	if err := db.QueryRow(ctx, `SELECT string_agg(format('%s:%s:%s', id, big, n), ' ' ORDER BY id) FROM items`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if want := "7:app:70 8:two-moved:2"; rows != want {
		t.Fatalf("rows %s, want %s", rows, want)
	}
	var keys string
	if err := db.QueryRow(ctx, `SELECT string_agg(key->>'id' || '/' || resolution, ' ' ORDER BY id) FROM bgsync.conflicts`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if want := "7/target_wins 8/incoming_wins"; keys != want {
		t.Fatalf("conflicts logged %s, want %s (under the key moved to)", keys, want)
	}
}
