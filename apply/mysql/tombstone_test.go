package mysql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// TestTombstoneKey: the key text built from change values is the one the
// trigger writes (checked against the server in TestTombstones); values
// a column would round differently have none.
func TestTombstoneKey(t *testing.T) {
	t.Parallel()
	cols := []mysql.ColumnType{
		{Name: "i", DataType: "int"}, {Name: "d", DataType: "decimal", Scale: 2}, {Name: "s", DataType: "varchar"},
		{Name: "b", DataType: "varbinary"}, {Name: "dt", DataType: "datetime", Scale: 3}, {Name: "ts", DataType: "timestamp"},
		{Name: "f", DataType: "double"},
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	cases := []struct {
		col  int
		v    change.Value
		want string
		ok   bool
	}{
		{0, change.Int(-17), "3:-17", true},
		{1, change.Numeric("1.5"), "4:1.50", true},
		{1, change.Numeric("-0.00"), "4:0.00", true},
		{1, change.Numeric("007.10"), "4:7.10", true},
		{1, change.Numeric("1.555"), "", false},
		{2, change.Text("héllo"), "6:héllo", true},
		{3, change.Bytes([]byte{0xab, 0x01}), "4:AB01", true},
		{4, change.TimestampTZOf(at), "23:2025-03-01 12:00:00.250", true},
		{4, change.TimestampTZOf(at.Add(time.Microsecond)), "", false},
		{5, change.TimestampTZOf(at.Truncate(time.Second)), "10:1740830400", true},
		{6, change.Float(1.5), "", false},
	}
	for _, c := range cases {
		tt := mysql.NewTargetTable(change.Table{Schema: "db", Name: "t"}, []mysql.ColumnType{cols[c.col]}, []string{cols[c.col].Name})
		got, ok := mysql.TombstoneKey(tt, []change.Value{c.v})
		if got != c.want || ok != c.ok {
			t.Errorf("%s %v: %q %v, want %q %v", cols[c.col].DataType, c.v, got, ok, c.want, c.ok)
		}
	}
	long := change.Table{Schema: "db", Name: strings.Repeat("x", 70)}
	if n := mysql.TombstoneTriggerName("bgsync", long); len(n) != 64 || !strings.HasPrefix(n, "bgsync_tombstone_x") {
		t.Errorf("trigger name %q (%d characters)", n, len(n))
	}
}

// TestTombstones: with the trigger installed, the application's delete
// leaves a tombstone and the applier's own do not; under last-writer-wins
// with a timestamp column an incoming write of a deleted key is ordered
// against the delete by that column (a later one re-inserts the row, an
// earlier one is dropped), an incoming delete against the target's row by
// the row's column; each conflict is logged. Teardown drops the trigger.
func TestTombstones(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "CREATE TABLE stamped (id INT PRIMARY KEY, name VARCHAR(20), at DATETIME(6))",
		"INSERT INTO stamped VALUES (1, 'app', '2025-01-01'), (2, 'app', '2025-01-01'), (3, 'app', '2025-01-01'), (4, 'app', '2025-01-01')")
	tbl := e.table("stamped")
	a := e.open(func(cfg *mysql.Config) {
		cfg.DefaultRule = conflict.Rule{Policy: conflict.LastWriterWins, TimestampColumn: "at"}
	})
	installTombstoneTrigger(t, e, tbl)
	before := time.Now().UTC().Add(-time.Second)
	if _, err := e.db.Exec("DELETE FROM stamped WHERE id IN (1, 2, 3)"); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC().Add(time.Second)
	tomb := func() []string {
		return e.rows("SELECT table_name, key_text FROM `" + e.schema + "`.tombstones ORDER BY key_text")
	}
	want := []string{tbl.String() + "|1:1", tbl.String() + "|1:2", tbl.String() + "|1:3"}
	if got := tomb(); !equalStrings(got, want) {
		t.Fatalf("tombstones %v, want %v", got, want)
	}
	var at time.Time
	var raw string
	var err error
	if err := e.db.QueryRow("SELECT deleted_at FROM `" + e.schema + "`.tombstones LIMIT 1").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if at, err = time.Parse("2006-01-02 15:04:05.999999", raw); err != nil || at.Before(before) || at.After(after) {
		t.Fatalf("tombstone time %s (%v), want UTC between %s and %s", raw, err, before, after)
	}

	cols := []change.Column{{Name: "id", Key: true}, {Name: "name"}, {Name: "at"}}
	row := func(id int64, name string, at time.Time) change.Row {
		return change.Row{change.Int(id), change.Text(name), change.TimestampTZOf(at)}
	}
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	later, earlier := time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond), time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	res := e.apply(a, txn(1,
		// Stamped after the delete: the row comes back.
		change.Change{Op: change.OpUpdate, Table: tbl, Columns: cols, Before: row(1, "app", old), After: row(1, "blue", later)},
		// Stamped before it: the delete stays.
		change.Change{Op: change.OpUpdate, Table: tbl, Columns: cols, Before: row(2, "app", old), After: row(2, "blue", earlier)},
		change.Change{Op: change.OpInsert, Table: tbl, Columns: cols, After: row(3, "blue", earlier)},
		// The applier's own delete leaves no tombstone.
		change.Change{Op: change.OpDelete, Table: tbl, Columns: cols, Before: row(4, "app", old)},
	))
	wantConflicts := map[mysql.ConflictLabel]int{
		{Kind: "update_missing", Resolution: "incoming_wins"}: 1,
		{Kind: "update_missing", Resolution: "target_wins"}:   1,
		{Kind: "insert_deleted", Resolution: "target_wins"}:   1,
	}
	if len(res.Conflicts) != len(wantConflicts) {
		t.Fatalf("conflicts %v, want %v", res.Conflicts, wantConflicts)
	}
	for l, n := range wantConflicts {
		if res.Conflicts[l] != n {
			t.Fatalf("conflicts %v, want %v", res.Conflicts, wantConflicts)
		}
	}
	if got := e.rows("SELECT id, name FROM stamped ORDER BY id"); !equalStrings(got, []string{"1|blue"}) {
		t.Fatalf("rows %v, want the re-inserted 1 only", got)
	}
	// The re-insert keeps the tombstone (as apply/postgres does); key 4
	// has none.
	if got := tomb(); !equalStrings(got, want) {
		t.Fatalf("tombstones after apply %v, want %v", got, want)
	}
	logged := e.rows("SELECT JSON_UNQUOTE(JSON_EXTRACT(`key`, '$.id')), kind, resolution, target_commit_time FROM `" + e.schema +
		"`.conflicts ORDER BY id")
	sec := at.Truncate(time.Second).Format("2006-01-02 15:04:05.000000")
	wantLog := []string{"1|update_missing|incoming_wins|" + sec, "2|update_missing|target_wins|" + sec, "3|insert_deleted|target_wins|" + sec}
	if !equalStrings(logged, wantLog) {
		t.Fatalf("conflict log %v, want %v", logged, wantLog)
	}

	// An incoming delete against the application's row: ordered by the
	// row's timestamp column against the delete's commit time (2025-03-01
	// 12:00:0x here).
	if _, err := e.db.Exec("INSERT INTO stamped VALUES (5, 'app', '2030-01-01'), (6, 'app', '2020-01-01')"); err != nil {
		t.Fatal(err)
	}
	res = e.apply(a, txn(2,
		change.Change{Op: change.OpDelete, Table: tbl, Columns: cols, Before: row(5, "blue", old)},
		change.Change{Op: change.OpDelete, Table: tbl, Columns: cols, Before: row(6, "blue", old)},
	))
	if res.Conflicts[mysql.ConflictLabel{Kind: "delete_differs", Resolution: "target_wins"}] != 1 ||
		res.Conflicts[mysql.ConflictLabel{Kind: "delete_differs", Resolution: "incoming_wins"}] != 1 {
		t.Fatalf("conflicts %v, want one delete_differs each way", res.Conflicts)
	}
	if got := e.rows("SELECT id, name FROM stamped ORDER BY id"); !equalStrings(got, []string{"1|blue", "5|app"}) {
		t.Fatalf("rows %v", got)
	}
	if got := tomb(); !equalStrings(got, want) {
		t.Fatalf("the applier's deletes left tombstones: %v", got)
	}

	e.dropSchemaLeavesNoTrigger(t)
	if _, err := e.db.Exec("DELETE FROM stamped"); err != nil {
		t.Fatalf("delete after teardown: %v", err)
	}
}

// TestTombstoneKeyServer: for a composite key of several types, the
// trigger's key text is TombstoneKey's, so the applier finds the
// tombstone.
func TestTombstoneKeyServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "CREATE TABLE k (d DECIMAL(6,2), dt DATETIME(3), b VARBINARY(8), ts TIMESTAMP(2), s VARCHAR(10), v INT, PRIMARY KEY (d, dt, b, ts, s))",
		"INSERT INTO k VALUES (-1.5, '2025-03-01 12:00:00.25', 0xAB01, FROM_UNIXTIME(1740830400.25), 'héllo', 1)")
	tbl := e.table("k")
	e.open() // creates bgsync's tables
	installTombstoneTrigger(t, e, tbl)
	if _, err := e.db.Exec("DELETE FROM k"); err != nil {
		t.Fatal(err)
	}
	tt, err := mysql.ReadTable(ctx, e.db, tbl)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	want, ok := mysql.TombstoneKey(tt, []change.Value{change.Numeric("-1.5"), change.TimestampTZOf(at), change.Bytes([]byte{0xab, 1}),
		change.TimestampTZOf(at), change.Text("héllo")})
	if !ok {
		t.Fatal("no key text")
	}
	if got := e.rows("SELECT key_text FROM `" + e.schema + "`.tombstones WHERE key_hash = UNHEX(SHA2(key_text, 256))"); !equalStrings(got, []string{want}) {
		t.Fatalf("trigger wrote %v, TombstoneKey gives %q", got, want)
	}
}

// installTombstoneTrigger puts the tombstone trigger on tbl, as setup does.
func installTombstoneTrigger(t *testing.T, e *env, tbl change.Table) {
	t.Helper()
	stmts, err := mysql.TombstoneSetupSQL(context.Background(), e.db, e.schema, tbl)
	if err != nil {
		t.Fatal(err)
	}
	e.execAll(t, stmts)
}
