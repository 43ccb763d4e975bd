package conflict

import (
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

// TestColumnMerge: under column-merge, update_differs and insert_exists
// are decided column by column; deletes and missing rows by commit time.
func TestColumnMerge(t *testing.T) {
	t0, t2 := t1.Add(-time.Second), t1.Add(time.Second)
	u := change.Unchanged()
	rule := Rule{Policy: ColumnMerge}
	for _, c := range []struct {
		name       string
		in         Input
		resolution Resolution
		op         change.Op
		row        change.Row // nil: not checked
	}{
		{"other columns: merged", Input{Op: change.OpUpdate, Before: row(1, "a0", "b0"), After: row(1, "a0", "b1"),
			Current: row(1, "a1", "b0"), ColumnTimes: []time.Time{t2, t2, {}}, CommitTime: t1, From: Green},
			Merged, change.OpUpdate, change.Row{u, u, change.Text("b1")}},
		{"same column, target wrote it later", Input{Op: change.OpUpdate, Before: row(1, "a0", "b0"), After: row(1, "a0", "b1"),
			Current: row(1, "a0", "b2"), ColumnTimes: []time.Time{t0, t0, t2}, CommitTime: t1, From: Blue},
			TargetWins, 0, nil},
		{"same column, incoming later", Input{Op: change.OpUpdate, Before: row(1, "a0", "b0"), After: row(1, "a0", "b1"),
			Current: row(1, "a0", "b2"), ColumnTimes: []time.Time{t0, t0, t0}, CommitTime: t1, From: Green},
			IncomingWins, change.OpUpdate, change.Row{u, u, change.Text("b1")}},
		{"same column, equal times: blue wins", Input{Op: change.OpUpdate, Before: row(1, "a0", "b0"), After: row(1, "a0", "b1"),
			Current: row(1, "a0", "b2"), ColumnTimes: []time.Time{t1, t1, t1}, CommitTime: t1, From: Green},
			TargetWins, 0, nil},
		{"column written by this stream: incoming wins", Input{Op: change.OpUpdate, Before: row(1, "a0", "b0"), After: row(1, "a0", "b1"),
			Current: row(1, "a0", "b2"), CommitTime: t0, From: Blue},
			IncomingWins, change.OpUpdate, change.Row{u, u, change.Text("b1")}},
		{"column the target holds as the incoming before value: written, even with an earlier time", Input{Op: change.OpUpdate,
			Before: row(1, "a2", "b0"), After: row(1, "a3", "b1"), Current: row(1, "a2", "b2"),
			ColumnTimes: []time.Time{t2, t2, t2}, CommitTime: t1, From: Green},
			Merged, change.OpUpdate, change.Row{u, change.Text("a3"), u}},
		{"insert meets a row: column by column", Input{Op: change.OpInsert, After: row(1, "a9", "b9"),
			Current: row(1, "a1", "b1"), ColumnTimes: []time.Time{t0, t2, t0}, CommitTime: t1, From: Green},
			Merged, change.OpUpdate, change.Row{u, u, change.Text("b9")}},
		{"delete of a changed row: later commit time", Input{Op: change.OpDelete, Before: row(1, "a0", "b0"),
			Current: row(1, "a0", "b1"), CurrentTime: t0, CurrentLocal: true, ColumnTimes: []time.Time{t0, t0, t0}, CommitTime: t1, From: Green},
			IncomingWins, change.OpDelete, nil},
		{"update of a deleted row: tombstone later", Input{Op: change.OpUpdate, Before: row(1, "a0", "b0"), After: row(1, "a0", "b1"),
			Deleted: t2, CommitTime: t1, From: Blue},
			TargetWins, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.Columns = cols
			d := Resolve(rule, &in)
			if d.Resolution != c.resolution || d.Op != c.op {
				t.Fatalf("got %s/%s op %v (%s), want %s op %v", d.Kind, d.Resolution, d.Op, d.Reason, c.resolution, c.op)
			}
			if c.row != nil && !rowsEqual(d.Row, c.row) {
				t.Fatalf("row %v, want %v", d.Row, c.row)
			}
		})
	}
}
