package mysql_test

import (
	"context"
	"testing"

	"github.com/bgsync/bgsync/apply/mysql"
)

// TestSkipReplication: the applier's session has skip_replication on, and
// every event of the transactions it writes carries flag 0x8000 in the
// binlog, while an application transaction's do not.
func TestSkipReplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL)
	a := e.open()
	v, err := a.SessionVar(context.Background(), "skip_replication")
	if err != nil || v != "1" {
		t.Fatalf("@@session.skip_replication = %q (%v), want 1", v, err)
	}
	from := e.binlogPos()
	items := e.table("items")
	e.apply(a, txn(1, ins(items, item(1, "a", 1)), ins(items, item(2, "b", 2))), txn(2, upd(items, item(1, "a", 1), item(1, "x", 1))))
	e.apply(a, txn(3, del(items, item(2, "b", 2))))
	if _, err := e.db.Exec("INSERT INTO items VALUES (10, 'app', 0)"); err != nil {
		t.Fatal(err)
	}
	var ours, app int
	for _, tx := range e.readBinlog(from) {
		tables := tx.tables()
		switch {
		case !containsTable(tables, e.dbName+".items"):
		case containsTable(tables, e.schema+".checkpoints"):
			ours++
			if !tx.allFlagged() {
				t.Errorf("an applier transaction has events without flag 0x8000: %+v", tx.events)
			}
		default:
			app++
			if tx.anyFlagged() {
				t.Errorf("an application transaction has an event with flag 0x8000: %+v", tx.events)
			}
		}
	}
	if ours != 2 || app != 1 {
		t.Fatalf("found %d applier and %d application transactions in the binlog, want 2 and 1", ours, app)
	}
}

// TestMarker: with the marker on, each target transaction writes the
// marker row first; EchoByMarker recognises such a transaction.
func TestMarker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL)
	a := e.open(func(c *mysql.Config) { c.MarkerTable = true })
	from := e.binlogPos()
	items := e.table("items")
	e.apply(a, txn(5, ins(items, item(1, "a", 1))))
	e.apply(a, txn(6, upd(items, item(1, "a", 1), item(1, "a", 2))))
	if got := e.rows("SELECT direction, source_position, writes FROM `" + e.schema + "`.apply_marker"); !equalStrings(got, []string{"blue-to-green|6|2"}) {
		t.Fatalf("marker rows %v", got)
	}
	n := 0
	for _, tx := range e.readBinlog(from) {
		tables := tx.tables()
		if !containsTable(tables, e.dbName+".items") {
			continue
		}
		n++
		if tables[0] != e.schema+"."+mysql.MarkerTableName {
			t.Errorf("first table of an applier transaction is %s, want the marker", tables[0])
		}
	}
	if n != 2 {
		t.Fatalf("found %d applier transactions, want 2", n)
	}
}

func containsTable(tables []string, name string) bool {
	for _, t := range tables {
		if t == name {
			return true
		}
	}
	return false
}
