package mysql_test

import (
	"context"
	"testing"
	"time"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// TestConflicts: each conflict kind, met on the target (green) by a change
// from blue, under each policy: the decision lands in the rows and in the
// conflicts table, and is counted in the Result.
func TestConflicts(t *testing.T) {
	t.Parallel()
	blueWins := conflict.Rule{Policy: conflict.BlueWins}
	greenWins := conflict.Rule{Policy: conflict.GreenWins}
	manual := conflict.Rule{Policy: conflict.Manual}
	lww := conflict.Rule{Policy: conflict.LastWriterWins}
	cases := []struct {
		name   string
		setup  string // the application's row on the target
		rule   conflict.Rule
		change func(items change.Table) []change.Change
		kind   string
		res    string
		rows   []string
	}{
		{"insert_exists blue-wins", "(1, 'green', 1)", blueWins, insert1, "insert_exists", "incoming_wins", []string{"1|blue|1"}},
		{"insert_exists green-wins", "(1, 'green', 1)", greenWins, insert1, "insert_exists", "target_wins", []string{"1|green|1"}},
		{"insert_exists manual", "(1, 'green', 1)", manual, insert1, "insert_exists", "unresolved", []string{"1|green|1"}},
		{"insert_exists lww without timestamp column", "(1, 'green', 1)", lww, insert1, "insert_exists", "incoming_wins", []string{"1|blue|1"}},
		{"insert_exists same row", "(1, 'blue', 1)", manual, insert1, "insert_exists", "converged", []string{"1|blue|1"}},
		{"update_missing blue-wins", "", blueWins, update1, "update_missing", "incoming_wins", []string{"1|b|2"}},
		{"update_missing green-wins", "", greenWins, update1, "update_missing", "target_wins", nil},
		{"update_missing manual", "", manual, update1, "update_missing", "unresolved", nil},
		{"update_differs blue-wins", "(1, 'green', 5)", blueWins, update1, "update_differs", "incoming_wins", []string{"1|b|2"}},
		{"update_differs green-wins", "(1, 'green', 5)", greenWins, update1, "update_differs", "target_wins", []string{"1|green|5"}},
		{"update_differs manual", "(1, 'green', 5)", manual, update1, "update_differs", "unresolved", []string{"1|green|5"}},
		{"delete_missing", "", greenWins, delete1, "delete_missing", "converged", nil},
		{"delete_differs blue-wins", "(1, 'green', 5)", blueWins, delete1, "delete_differs", "incoming_wins", nil},
		{"delete_differs green-wins", "(1, 'green', 5)", greenWins, delete1, "delete_differs", "target_wins", []string{"1|green|5"}},
		{"delete_differs manual", "(1, 'green', 5)", manual, delete1, "delete_differs", "unresolved", []string{"1|green|5"}},
		{"the group keeps the rows it wrote", "(1, 'green', 1)", blueWins, func(items change.Table) []change.Change {
			return []change.Change{ins(items, item(1, "blue", 1)), upd(items, item(1, "blue", 1), item(1, "blue", 2))}
		}, "insert_exists", "incoming_wins", []string{"1|blue|2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, itemsDDL)
			if c.setup != "" {
				if _, err := e.db.Exec("INSERT INTO items VALUES " + c.setup); err != nil {
					t.Fatal(err)
				}
			}
			items := e.table("items")
			a := e.open(func(cfg *mysql.Config) { cfg.Rules = map[string]conflict.Rule{items.String(): c.rule} })
			res := e.apply(a, txn(50, c.change(items)...))
			label := mysql.ConflictLabel{Kind: c.kind, Resolution: c.res}
			if res.Conflicts[label] != 1 || len(res.Conflicts) != 1 {
				t.Fatalf("conflicts %v, want one %v", res.Conflicts, label)
			}
			if got := e.rows("SELECT id, name, n FROM items ORDER BY id"); !equalStrings(got, c.rows) {
				t.Fatalf("rows %v, want %v", got, c.rows)
			}
			policy := c.rule.Policy.String()
			resolved := "1"
			if c.res == "unresolved" {
				resolved = "0"
			}
			want := "blue-to-green|" + items.String() + "|" + c.kind + "|" + policy + "|" + c.res + "|0/32|50|" + resolved
			if got := e.rows("SELECT direction, table_name, kind, policy, resolution, source_position, source_xid, resolved FROM `" +
				e.schema + "`.conflicts"); !equalStrings(got, []string{want}) {
				t.Fatalf("conflict log %v, want %v", got, want)
			}
			n, err := a.Unresolved(context.Background())
			if err != nil || n != int64(boolInt(c.res == "unresolved")) {
				t.Fatalf("Unresolved = %d (%v)", n, err)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func insert1(items change.Table) []change.Change {
	return []change.Change{ins(items, item(1, "blue", 1))}
}
func update1(items change.Table) []change.Change {
	return []change.Change{upd(items, item(1, "a", 1), item(1, "b", 2))}
}
func delete1(items change.Table) []change.Change { return []change.Change{del(items, item(1, "a", 1))} }

// TestConflictImages: the log holds both images and the target's row as
// apply.ImageJSON renders them, and the key.
func TestConflictImages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, itemsDDL, "INSERT INTO items VALUES (1, 'green', NULL)")
	items := e.table("items")
	a := e.open(func(cfg *mysql.Config) { cfg.DefaultRule = conflict.Rule{Policy: conflict.Manual} })
	e.apply(a, txn(9, upd(items, item(1, "a", 1), item(1, "b", 2))))
	got := e.rows("SELECT `key`, incoming_before, incoming_after, target_row, incoming_commit_time, target_commit_time, reason FROM `" +
		e.schema + "`.conflicts")
	want := `{"id":"1"}|{"id":"1","n":"1","name":"a"}|{"id":"1","n":"2","name":"b"}|{"id":"1","n":null,"name":"green"}|` +
		`2025-03-01 12:00:09.000000|NULL|manual policy: left for a person to decide`
	if !equalStrings(got, []string{want}) {
		t.Fatalf("conflict log\n got %v\nwant %v", got, want)
	}
}

// TestLastWriterWinsTimestampColumn: with a timestamp column, two writes
// are ordered by it, read back from a DATETIME(6) as the incoming
// TimestampTZ.
func TestLastWriterWinsTimestampColumn(t *testing.T) {
	t.Parallel()
	cols := []change.Column{{Name: "id", Key: true}, {Name: "name"}, {Name: "at"}}
	at := func(d time.Duration) change.Value { return change.TimestampTZOf(base.Add(d)) }
	row := func(name string, d time.Duration) change.Row {
		return change.Row{change.Int(1), change.Text(name), at(d)}
	}
	cases := []struct {
		name   string
		change change.Change
		kind   string
		res    string
		want   string
	}{
		{"insert later wins", change.Change{Op: change.OpInsert, Columns: cols, After: row("blue", time.Hour)},
			"insert_exists", "incoming_wins", "blue|2025-03-01 13:00:00.000000"},
		{"insert earlier loses", change.Change{Op: change.OpInsert, Columns: cols, After: row("blue", -time.Hour)},
			"insert_exists", "target_wins", "green|2025-03-01 12:00:00.500000"},
		{"update later wins", change.Change{Op: change.OpUpdate, Columns: cols, Before: row("a", -2*time.Hour), After: row("blue", time.Hour)},
			"update_differs", "incoming_wins", "blue|2025-03-01 13:00:00.000000"},
		{"update earlier loses", change.Change{Op: change.OpUpdate, Columns: cols, Before: row("a", -2*time.Hour), After: row("blue", time.Millisecond)},
			"update_differs", "target_wins", "green|2025-03-01 12:00:00.500000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "CREATE TABLE stamped (id INT PRIMARY KEY, name VARCHAR(20), at DATETIME(6))",
				"INSERT INTO stamped VALUES (1, 'green', '2025-03-01 12:00:00.5')")
			tbl := e.table("stamped")
			a := e.open(func(cfg *mysql.Config) {
				cfg.DefaultRule = conflict.Rule{Policy: conflict.LastWriterWins, TimestampColumn: "at"}
			})
			ch := c.change
			ch.Table = tbl
			res := e.apply(a, txn(1, ch))
			if res.Conflicts[mysql.ConflictLabel{Kind: c.kind, Resolution: c.res}] != 1 {
				t.Fatalf("conflicts %v", res.Conflicts)
			}
			if got := e.rows("SELECT name, at FROM stamped"); !equalStrings(got, []string{c.want}) {
				t.Fatalf("row %v, want %s", got, c.want)
			}
			if got := e.rows("SELECT policy FROM `" + e.schema + "`.conflicts"); !equalStrings(got, []string{"last-writer-wins (at)"}) {
				t.Fatalf("policy %v", got)
			}
		})
	}
}
