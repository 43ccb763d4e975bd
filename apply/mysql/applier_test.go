package mysql_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
)

func TestApplyBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL, "CREATE TABLE other (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, n INT NULL)",
		"INSERT INTO other VALUES (1, 'x', 1), (2, 'y', 2)")
	a := e.open()
	items, other := e.table("items"), e.table("other")
	res := e.apply(a,
		txn(10, ins(items, item(1, "a", 1)), ins(items, item(2, "b", 2)), ins(items, item(3, "c", 3)), ins(items, item(4, "d", 4))),
		txn(20, upd(items, item(2, "b", 2), item(2, "bb", 20)), del(items, item(3, "c", 3)), del(items, item(4, "d", 4))),
		txn(30, upd(items, item(1, "a", 1), item(5, "a", 1)), // key change
			change.Change{Op: change.OpTruncate, Table: other, Truncate: []change.Table{other}}),
	)
	if res.Applied != 3 || res.Inserted != 4 || res.Updated != 2 || res.Deleted != 2 || res.Truncated != 1 ||
		res.Missing != 0 || len(res.Conflicts) != 0 || res.Position != 30 || !res.LastCommitTime.Equal(txn(30).CommitTime) {
		t.Fatalf("result %+v", res)
	}
	if got, want := e.rows("SELECT id, name, n FROM items ORDER BY id"), []string{"2|bb|20", "5|a|1"}; !equalStrings(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if n := e.count("SELECT COUNT(*) FROM other"); n != 0 {
		t.Fatalf("other has %d rows after the truncate", n)
	}
	if got := e.rows("SELECT source_position, source_position_text, kafka_offset, txns_applied, source_commit_time FROM `" +
		e.schema + "`.checkpoints"); !equalStrings(got, []string{"30|0/1E|7|3|2025-03-01 12:00:30.000000"}) {
		t.Fatalf("checkpoint %v", got)
	}
}

// TestReplaySkipped: the checkpoint commits with the rows, so a replay of
// the same transactions, by the same applier or a new one, writes nothing.
func TestReplaySkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL)
	items := e.table("items")
	group := []*change.Txn{txn(100, ins(items, item(1, "a", 1))), txn(200, ins(items, item(2, "b", 2)), upd(items, item(1, "a", 1), item(1, "a", 11)))}
	a := e.open()
	e.apply(a, group...)
	res := e.apply(a, group...)
	if res.Applied != 0 || res.Skipped != 2 || res.Position != 200 || res.Inserted != 0 {
		t.Fatalf("replay: %+v", res)
	}
	b := e.open(func(c *mysql.Config) { c.Direction = "blue-to-green" })
	if b.Checkpoint() != 200 {
		t.Fatalf("reopened checkpoint %d, want 200", b.Checkpoint())
	}
	a.Close()
	res = e.apply(b, append(group, txn(300, ins(items, item(3, "c", 3))))...)
	if res.Applied != 1 || res.Skipped != 2 || res.Inserted != 1 || res.Position != 300 {
		t.Fatalf("replay and one more: %+v", res)
	}
	if got := e.rows("SELECT id, n FROM items ORDER BY id"); !equalStrings(got, []string{"1|11", "2|2", "3|3"}) {
		t.Fatalf("items %v", got)
	}
	if n := e.count("SELECT txns_applied FROM `" + e.schema + "`.checkpoints"); n != 3 {
		t.Fatalf("txns_applied %d, want 3", n)
	}
}

// TestFailureRollsBack: a statement the target refuses rolls back the
// group's rows and its checkpoint; the error names table, key and column.
func TestFailureRollsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(3) NOT NULL, n INT NULL)")
	items := e.table("items")
	a := e.open()
	e.apply(a, txn(1, ins(items, item(1, "ok", 1))))
	_, err := a.Apply(context.Background(), []*change.Txn{
		txn(2, ins(items, item(2, "b", 2)), upd(items, item(1, "ok", 1), item(1, "ok", 2))),
		txn(3, ins(items, item(3, "c", 3)), ins(items, item(4, "toolong", 4)), ins(items, item(5, "e", 5))),
	}, 9)
	var ae *mysql.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T), want *ApplyError", err, err)
	}
	if ae.Table != items || ae.Column != "name" || ae.Key != "(id=4)" || ae.Position != 3 || ae.Retryable() {
		t.Fatalf("error names %+v (retryable %v): %v", ae, ae.Retryable(), err)
	}
	t.Logf("error: %v", err)
	if got := e.rows("SELECT id, n FROM items ORDER BY id"); !equalStrings(got, []string{"1|1"}) {
		t.Fatalf("items after the failed group %v", got)
	}
	if n := e.count("SELECT source_position FROM `" + e.schema + "`.checkpoints"); n != 1 || a.Checkpoint() != 1 {
		t.Fatalf("checkpoint %d (in memory %d), want 1", n, a.Checkpoint())
	}
	// The applier is usable again: the group without the bad row applies.
	res := e.apply(a, txn(2, ins(items, item(2, "b", 2))), txn(3, ins(items, item(4, "ok", 4))))
	if res.Applied != 2 || res.Position != 3 {
		t.Fatalf("after the failure: %+v", res)
	}
}

// TestNoFormNamesColumn: a value MySQL cannot store fails before any
// statement, naming the column.
func TestNoFormNamesColumn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "CREATE TABLE f (id INT PRIMARY KEY, x DOUBLE)")
	a := e.open()
	cols := []change.Column{{Name: "id", Key: true}, {Name: "x"}}
	_, err := a.Apply(context.Background(), []*change.Txn{txn(1, change.Change{Op: change.OpInsert, Table: e.table("f"), Columns: cols,
		After: change.Row{change.Int(1), change.Float(posInf())}})}, 0)
	var ae *mysql.ApplyError
	if !errors.As(err, &ae) || ae.Column != "x" || !errors.Is(err, mysql.ErrNoForm) || ae.Retryable() {
		t.Fatalf("error %v", err)
	}
}

func TestUnchangedNotWritten(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL, "INSERT INTO items VALUES (1, 'keep', 1)")
	a := e.open()
	items := e.table("items")
	res := e.apply(a, txn(1, upd(items,
		change.Row{change.Int(1), change.Absent(), change.Absent()},
		change.Row{change.Int(1), change.Unchanged(), change.Int(2)})))
	if res.Updated != 1 || len(res.Conflicts) != 0 {
		t.Fatalf("result %+v", res)
	}
	if got := e.rows("SELECT id, name, n FROM items"); !equalStrings(got, []string{"1|keep|2"}) {
		t.Fatalf("items %v", got)
	}
}

func TestHeartbeatsNotWritten(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL)
	hb := change.Table{Schema: "bgsync", Name: "heartbeats"}
	a := e.open(func(c *mysql.Config) { c.Heartbeats = hb })
	beat := change.Change{Op: change.OpInsert, Table: hb, Columns: []change.Column{{Name: "seq", Key: true}}, After: change.Row{change.Int(42)}}
	res := e.apply(a, txn(1, beat), txn(2, ins(e.table("items"), item(1, "a", 1))))
	if res.Applied != 2 || res.HeartbeatTxns != 1 || len(res.Heartbeats) != 1 || res.Heartbeats[0] != 42 || res.Inserted != 1 {
		t.Fatalf("result %+v", res)
	}
}

// TestTablesMap: a source table goes to the mapped target table.
func TestTablesMap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL)
	src := change.Table{Schema: "public", Name: "things"}
	a := e.open(func(c *mysql.Config) { c.Tables = map[string]string{"public.things": e.dbName + ".items"} })
	e.apply(a, txn(1, ins(src, item(1, "a", 1))))
	if n := e.count("SELECT COUNT(*) FROM items"); n != 1 {
		t.Fatalf("%d rows", n)
	}
}
