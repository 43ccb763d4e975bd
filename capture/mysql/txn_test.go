package mysql_test

import (
	"testing"
	"time"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignoreTime leaves a change's statement time out of a comparison: it is
// zero or not depending on whether the statement and its COMMIT fell in
// one second (TestStatementTime checks it).
var ignoreTime = cmpopts.IgnoreFields(change.Change{}, "Time")

func TestTransactionsAndSeq(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t,
		`CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20), n INT)`,
		`CREATE TABLE b (k1 INT, k2 VARCHAR(5), v INT, PRIMARY KEY (k2, k1))`,
		`CREATE TABLE other (id INT PRIMARY KEY)`,
	)
	r := start(t, d, 0, nil, "a", "b")
	before := time.Now().Add(-2 * time.Second)

	d.exec(t, `BEGIN`,
		`INSERT INTO a VALUES (1, 'one', 10), (2, 'two', 20)`,
		`UPDATE a SET v = 'uno', n = 11 WHERE id = 1`,
		`INSERT INTO other VALUES (1)`, // not captured
		`DELETE FROM a WHERE id = 2`,
		`INSERT INTO b VALUES (7, 'x', 70)`,
		`COMMIT`)
	txn := r.next(t)

	colsA := []change.Column{{Name: "id", Type: "int", Key: true}, {Name: "v", Type: "varchar"}, {Name: "n", Type: "int"}}
	colsB := []change.Column{{Name: "k1", Type: "int", Key: true}, {Name: "k2", Type: "varchar", Key: true}, {Name: "v", Type: "int"}}
	ta, tb := d.table("a"), d.table("b")
	row := func(vs ...change.Value) change.Row { return vs }
	want := []change.Change{
		{Op: change.OpInsert, Table: ta, Columns: colsA, After: row(change.Int(1), change.Text("one"), change.Int(10)), Seq: 0},
		{Op: change.OpInsert, Table: ta, Columns: colsA, After: row(change.Int(2), change.Text("two"), change.Int(20)), Seq: 1},
		{Op: change.OpUpdate, Table: ta, Columns: colsA,
			Before: row(change.Int(1), change.Text("one"), change.Int(10)),
			After:  row(change.Int(1), change.Text("uno"), change.Int(11)), Seq: 2},
		{Op: change.OpDelete, Table: ta, Columns: colsA, Before: row(change.Int(2), change.Text("two"), change.Int(20)), Seq: 3},
		{Op: change.OpInsert, Table: tb, Columns: colsB, After: row(change.Int(7), change.Text("x"), change.Int(70)), Seq: 4},
	}
	if diff := cmp.Diff(want, txn.Changes, ignoreTime); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	if txn.ID == 0 || txn.Position == 0 || txn.CommitTime.Before(before) || txn.CommitTime.After(time.Now().Add(2*time.Second)) {
		t.Errorf("header: id %d position %d commit %v", txn.ID, txn.Position, txn.CommitTime)
	}

	// A transaction touching only tables not captured is not sent; the
	// next one is, with a later position and GTID.
	d.exec(t, `INSERT INTO other VALUES (2)`, `INSERT INTO a VALUES (3, 'three', 30)`)
	txn2 := r.next(t)
	if len(txn2.Changes) != 1 || !cmp.Equal(txn2.Changes[0].After[0], change.Int(3)) {
		t.Fatalf("second txn: %+v", txn2.Changes)
	}
	if txn2.Position <= txn.Position || txn2.ID <= txn.ID {
		t.Errorf("second txn at %d (id %d) not after %d (id %d)", txn2.Position, txn2.ID, txn.Position, txn.ID)
	}
	st := r.c.Stats()
	if st.Txns != 2 || st.Rows != 6 || st.Empty < 1 || st.Read < txn2.Position {
		t.Errorf("stats %+v", st)
	}
}

func TestSkipReplicationIsEcho(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY, v INT)`)
	r := start(t, d, 0, nil, "a")

	d.exec(t, `SET SESSION skip_replication = 1`,
		`BEGIN`, `INSERT INTO a VALUES (1, 1), (2, 2)`, `UPDATE a SET v = 3 WHERE id = 1`, `COMMIT`,
		`TRUNCATE TABLE a`, // flagged too: not sent
		`SET SESSION skip_replication = 0`,
		`INSERT INTO a VALUES (10, 10)`)
	txn := r.next(t)
	if len(txn.Changes) != 1 || txn.Changes[0].Op != change.OpInsert || !cmp.Equal(txn.Changes[0].After[0], change.Int(10)) {
		t.Fatalf("first txn after the echo: %+v", txn.Changes)
	}
	st := r.c.Stats()
	if st.EchoTxns != 2 || st.EchoRows != 3 || st.Txns != 1 {
		t.Errorf("stats %+v: want 2 echo txns (3 rows), 1 txn", st)
	}
}

func TestHeartbeatsAlwaysCaptured(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE heartbeats (side VARCHAR(10) PRIMARY KEY, at DATETIME(6))`, `CREATE TABLE a (id INT PRIMARY KEY)`)
	// Tables lists another table only; the heartbeat table still flows.
	hb := d.table("heartbeats")
	r := start(t, d, 0, func(c *capmy.Config) { c.Heartbeats = hb }, "a")
	d.exec(t, `INSERT INTO heartbeats VALUES ('blue', '2024-01-01 00:00:00')`)
	if txn := r.next(t); txn.Changes[0].Table != hb {
		t.Fatalf("got %v, want the heartbeat", txn.Changes[0].Table)
	}
}

// TestMarkerIsEcho: on MySQL, where no skip_replication flag exists,
// apply/mysql writes a marker row in every transaction it applies; a
// transaction holding one is dropped as an echo, whatever else it wrote.
func TestMarkerIsEcho(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY, v INT)`, `CREATE TABLE apply_marker (direction VARCHAR(64) PRIMARY KEY, n BIGINT)`)
	marker := d.table("apply_marker")
	r := start(t, d, 0, func(c *capmy.Config) { c.Marker = marker }, "a")
	d.exec(t, `BEGIN`, `INSERT INTO apply_marker VALUES ('green-to-blue', 1)`, `INSERT INTO a VALUES (1, 1), (2, 2)`, `COMMIT`,
		`BEGIN`, `INSERT INTO a VALUES (3, 3)`, `UPDATE apply_marker SET n = 2`, `COMMIT`,
		`INSERT INTO a VALUES (10, 10)`)
	txn := r.next(t)
	if len(txn.Changes) != 1 || !cmp.Equal(txn.Changes[0].After[0], change.Int(10)) {
		t.Fatalf("first txn after the marked ones: %+v", txn.Changes)
	}
	if st := r.c.Stats(); st.EchoTxns != 2 || st.Txns != 1 {
		t.Errorf("stats %+v: want 2 echo txns, 1 txn", st)
	}
}

// TestStatementTime: a change carries the start of its statement, whole
// seconds, where that is not its COMMIT's second, and it is the second a
// trigger's UTC_TIMESTAMP(6) saw during that statement (what apply/mysql's
// tombstones and column times record on the other side).
func TestStatementTime(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY, v INT)`,
		`CREATE TABLE seen (id INT PRIMARY KEY, at DATETIME(6))`,
		`CREATE TRIGGER a_del AFTER DELETE ON a FOR EACH ROW INSERT INTO seen VALUES (OLD.id, UTC_TIMESTAMP(6))`)
	r := start(t, d, 0, nil, "a")
	d.exec(t, `INSERT INTO a VALUES (1, 1), (2, 2)`)
	r.next(t)

	d.exec(t, `BEGIN`, `DELETE FROM a WHERE id = 1`, `DO SLEEP(1.1)`, `UPDATE a SET v = 3 WHERE id = 2`, `DO SLEEP(1.1)`, `COMMIT`)
	txn := r.next(t)
	if len(txn.Changes) != 2 {
		t.Fatalf("%d changes, want 2", len(txn.Changes))
	}
	var seen string
	if err := d.db.QueryRow(`SELECT DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s') FROM seen WHERE id = 1`).Scan(&seen); err != nil {
		t.Fatal(err)
	}
	del, upd := txn.TimeOf(&txn.Changes[0]), txn.TimeOf(&txn.Changes[1])
	if got := del.UTC().Format(time.DateTime); got != seen {
		t.Errorf("the delete's time is %s; the trigger saw %s", got, seen)
	}
	if del.Nanosecond() != 0 || !del.Before(upd) || !upd.Before(txn.CommitTime) {
		t.Errorf("delete at %v, update at %v, commit at %v: want whole seconds, each statement before the next", del, upd, txn.CommitTime)
	}

	d.exec(t, `DELETE FROM a WHERE id = 2`) // one statement: its COMMIT's second
	txn = r.next(t)
	if !txn.Changes[0].Time.IsZero() {
		t.Errorf("an autocommit delete carries time %v, want zero (its commit time)", txn.Changes[0].Time)
	}
}
