package mysql_test

import (
	"context"
	"testing"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
)

// TestTombstoneTriggerMySQLForm runs the MySQL form of the tombstone
// trigger (which knows bgsync's sessions by @bgsync_applier, MySQL having
// no skip_replication) on the MariaDB server here: the application's
// delete leaves a tombstone; a session that set @bgsync_applier, and the
// applier's own delete, leave none.
func TestTombstoneTriggerMySQLForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "CREATE TABLE m (id INT PRIMARY KEY, v INT)", "INSERT INTO m VALUES (1, 1), (2, 2), (3, 3)")
	tbl := e.table("m")
	a := e.open()
	tt, err := mysql.ReadTable(ctx, e.db, tbl)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := mysql.TombstoneTriggerSQL(e.schema, tt, false)
	if err != nil {
		t.Fatal(err)
	}
	e.execAll(t, stmts)
	if _, err := e.db.Exec("DELETE FROM m WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SET @bgsync_applier = 1", "DELETE FROM m WHERE id = 2", "SET @bgsync_applier = NULL"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	conn.Close()
	cols := []change.Column{{Name: "id", Key: true}, {Name: "v"}}
	e.apply(a, txn(1, change.Change{Op: change.OpDelete, Table: tbl, Columns: cols, Before: change.Row{change.Int(3), change.Int(3)}}))

	if got := e.rows("SELECT id FROM m"); len(got) != 0 {
		t.Fatalf("rows left: %v", got)
	}
	if got := e.rows("SELECT key_text FROM `" + e.schema + "`.tombstones WHERE table_name = '" + tbl.String() + "'"); !equalStrings(got, []string{"1:1"}) {
		t.Fatalf("tombstones %v, want the application's delete of 1 only", got)
	}
}
