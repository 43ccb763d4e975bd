package mysql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// TestColumnTriggerSQL: without column-merge the statements only drop the
// triggers; with it, an insert records every column and an update the
// columns whose value changed, text compared as bytes; a key without key
// text is an error that says what column-merge loses.
func TestColumnTriggerSQL(t *testing.T) {
	t.Parallel()
	tbl := change.Table{Schema: "db", Name: "t"}
	tt := mysql.NewTargetTable(tbl, []mysql.ColumnType{{Name: "id", DataType: "int"}, {Name: "s", DataType: "varchar"}}, []string{"id"})
	ins, upd := mysql.ColumnTriggerNames("bg", tbl)
	if ins != "bg_colins_t" || upd != "bg_colupd_t" {
		t.Fatalf("trigger names %q %q", ins, upd)
	}
	drops, err := mysql.ColumnTriggerSQL("bg", tt, true, false)
	if err != nil || len(drops) != 2 || !strings.HasPrefix(drops[0], "DROP TRIGGER IF EXISTS `db`.`bg_colins_t`") ||
		!strings.HasPrefix(drops[1], "DROP TRIGGER IF EXISTS `db`.`bg_colupd_t`") {
		t.Fatalf("without column-merge: %q %v", drops, err)
	}
	for _, c := range []struct {
		name    string
		mariadb bool
		stmt    int
		want    []string
	}{
		{"insert records every column", true, 2, []string{"AFTER INSERT ON `db`.`t`", "IF @@session.skip_replication = 0 THEN",
			"(SELECT 'id' AS n UNION ALL SELECT 's') AS c", "UNHEX(SHA2(CONCAT(LENGTH(CAST(NEW.`id` AS CHAR CHARACTER SET utf8mb4)), ':'",
			"UTC_TIMESTAMP(6)", "ON DUPLICATE KEY UPDATE written_at = VALUES(written_at)"}},
		{"update records changed columns", true, 3, []string{"AFTER UPDATE ON `db`.`t`",
			"SELECT 'id' AS n, NOT (OLD.`id` <=> NEW.`id`) AS w UNION ALL SELECT 's', NOT (CAST(OLD.`s` AS BINARY) <=> CAST(NEW.`s` AS BINARY))) AS c WHERE c.w"}},
		{"MySQL skips the applier's sessions by @bgsync_applier", false, 3, []string{"IF @bgsync_applier IS NULL THEN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			stmts, err := mysql.ColumnTriggerSQL("bg", tt, c.mariadb, true)
			if err != nil || len(stmts) != 4 {
				t.Fatalf("%q %v", stmts, err)
			}
			for _, w := range c.want {
				if !strings.Contains(stmts[c.stmt], w) {
					t.Errorf("%s\nlacks %s", stmts[c.stmt], w)
				}
			}
		})
	}
	fk := mysql.NewTargetTable(tbl, []mysql.ColumnType{{Name: "f", DataType: "double"}}, []string{"f"})
	if _, err := mysql.ColumnTriggerSQL("bg", fk, true, true); err == nil || !strings.Contains(err.Error(), "column-merge") {
		t.Fatalf("a DOUBLE key: %v, want an error naming column-merge", err)
	}
	if s, err := mysql.ColumnTriggerSQL("bg", fk, true, false); err != nil || len(s) != 2 {
		t.Fatalf("a DOUBLE key without column-merge: %q %v, want the drops", s, err)
	}
}

// Rows of the column-merge test table "cm".
var cmCols = []change.Column{{Name: "id", Key: true}, {Name: "a"}, {Name: "b"}, {Name: "note"}}

func cm(id int64, a string, b int64, note string) change.Row {
	return change.Row{change.Int(id), change.Text(a), change.Int(b), change.Text(note)}
}

func cmUpd(tbl change.Table, before, after change.Row) change.Change {
	return change.Change{Op: change.OpUpdate, Table: tbl, Columns: cmCols, Before: before, After: after}
}

// TestColumnWrites: with the column-merge triggers installed (as setup
// does), the application's insert records every column and its update
// only the columns it changed (a change of case too), at the statement's
// time; the applier's own writes record nothing. Under column-merge an
// incoming update keeps a column the application wrote later and writes
// one it wrote earlier, comparing whole seconds; a column the group wrote
// itself counts as the stream's, and a write older than the key's
// tombstone counts for nothing. Teardown drops every trigger.
func TestColumnWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "CREATE TABLE cm (id INT PRIMARY KEY, a VARCHAR(20), b INT, note VARCHAR(20))")
	tbl := e.table("cm")
	a := e.open(func(cfg *mysql.Config) {
		cfg.Rules = map[string]conflict.Rule{tbl.String(): {Policy: conflict.ColumnMerge}}
	})
	stmts, err := mysql.ConflictTriggerSQL(ctx, e.db, e.schema, tbl, true)
	if err != nil {
		t.Fatal(err)
	}
	e.execAll(t, stmts)
	if n := e.count("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ?", e.dbName); n != 3 {
		t.Fatalf("%d triggers, want tombstone, insert and update", n)
	}
	app, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	// at runs one statement of the application as if it started at base
	// + sec (SET timestamp fixes the statement time UTC_TIMESTAMP reads).
	at := func(sec float64, q string) {
		t.Helper()
		ts := float64(base.Unix()) + sec
		if _, err := app.ExecContext(ctx, fmt.Sprintf("SET timestamp = %.6f", ts)); err != nil {
			t.Fatal(err)
		}
		if _, err := app.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	writes := func(id int) []string {
		return e.rows(fmt.Sprintf("SELECT column_name, DATE_FORMAT(written_at, '%%s.%%f') FROM `%s`.column_writes "+
			"WHERE table_name = '%s' AND key_hash = UNHEX(SHA2('1:%d', 256)) ORDER BY column_name", e.schema, tbl, id))
	}
	at(10, "INSERT INTO cm VALUES (1, 'app', 1, 'n')")
	at(30, "UPDATE cm SET b = 2 WHERE id = 1")
	at(20.7, "UPDATE cm SET note = 'app2' WHERE id = 1")
	at(5, "INSERT INTO cm VALUES (2, 'abc', 1, NULL)")
	at(6, "UPDATE cm SET a = 'ABC' WHERE id = 2")
	at(7, "UPDATE cm SET b = 1 WHERE id = 2") // changes nothing
	if got, want := writes(1), []string{"a|10.000000", "b|30.000000", "id|10.000000", "note|20.700000"}; !equalStrings(got, want) {
		t.Fatalf("column writes of 1: %v, want %v", got, want)
	}
	if got, want := writes(2), []string{"a|06.000000", "b|05.000000", "id|05.000000", "note|05.000000"}; !equalStrings(got, want) {
		t.Fatalf("column writes of 2: %v, want %v", got, want)
	}

	// Blue's update at base+20 of a, b and note, against a row whose a
	// differs from its before image: a (application: 10s) is written, b
	// (30s) kept, note (20.7s, so 20 in whole seconds: a tie, blue's) is
	// written.
	res := e.apply(a, txn(20, cmUpd(tbl, cm(1, "old", 1, "n"), cm(1, "blue", 9, "blue"))))
	if res.Conflicts[mysql.ConflictLabel{Kind: "update_differs", Resolution: "merged"}] != 1 {
		t.Fatalf("conflicts %v, want one update_differs merged", res.Conflicts)
	}
	if got := e.rows("SELECT id, a, b, note FROM cm WHERE id = 1"); !equalStrings(got, []string{"1|blue|2|blue"}) {
		t.Fatalf("row 1 %v, want a and note from blue, b kept", got)
	}
	if got, want := writes(1), []string{"a|10.000000", "b|30.000000", "id|10.000000", "note|20.700000"}; !equalStrings(got, want) {
		t.Fatalf("the applier's write recorded column writes: %v, want %v", got, want)
	}

	// One group: blue's first update writes a (no conflict); its second,
	// stamped before the application's write of a, modifies a again
	// against a row whose b differs: a is the group's own write now, so
	// it is written.
	at(50, "INSERT INTO cm VALUES (3, 'app', 1, 'app')")
	second := txn(61, cmUpd(tbl, cm(3, "blue", 7, "app"), cm(3, "blue2", 7, "app")))
	second.CommitTime = base.Add(40 * time.Second)
	res = e.apply(a, txn(60, cmUpd(tbl, cm(3, "app", 1, "app"), cm(3, "blue", 1, "app"))), second)
	if res.Conflicts[mysql.ConflictLabel{Kind: "update_differs", Resolution: "merged"}] != 1 {
		t.Fatalf("conflicts %v, want one update_differs merged", res.Conflicts)
	}
	if got := e.rows("SELECT id, a, b, note FROM cm WHERE id = 3"); !equalStrings(got, []string{"3|blue2|1|app"}) {
		t.Fatalf("row 3 %v, want a from blue's second update", got)
	}

	// The application inserts 4 and deletes it; blue re-inserts it; a
	// later blue update stamped before the application's insert writes
	// note: that write belonged to the deleted row.
	at(70, "INSERT INTO cm VALUES (4, 'app', 1, 'app')")
	at(71, "DELETE FROM cm WHERE id = 4")
	e.apply(a, txn(72, change.Change{Op: change.OpInsert, Table: tbl, Columns: cmCols, After: cm(4, "blue", 1, "blue")}))
	late := txn(73, cmUpd(tbl, cm(4, "blue", 5, "blue"), cm(4, "blue", 5, "x")))
	late.CommitTime = base.Add(65 * time.Second)
	res = e.apply(a, late)
	if res.Conflicts[mysql.ConflictLabel{Kind: "update_differs", Resolution: "merged"}] != 1 {
		t.Fatalf("conflicts %v, want one update_differs merged", res.Conflicts)
	}
	if got := e.rows("SELECT id, a, b, note FROM cm WHERE id = 4"); !equalStrings(got, []string{"4|blue|1|x"}) {
		t.Fatalf("row 4 %v, want note from blue", got)
	}

	// Setup for another policy removes the column-write triggers.
	if stmts, err = mysql.ConflictTriggerSQL(ctx, e.db, e.schema, tbl, false); err != nil {
		t.Fatal(err)
	}
	e.execAll(t, stmts)
	if n := e.count("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ?", e.dbName); n != 1 {
		t.Fatalf("%d triggers without column-merge, want the tombstone trigger", n)
	}
	if stmts, err = mysql.ConflictTriggerSQL(ctx, e.db, e.schema, tbl, true); err != nil {
		t.Fatal(err)
	}
	e.execAll(t, stmts)
	e.dropSchemaLeavesNoTrigger(t)
	if _, err := e.db.Exec("UPDATE cm SET b = b + 1"); err != nil {
		t.Fatalf("update after teardown: %v", err)
	}
}
