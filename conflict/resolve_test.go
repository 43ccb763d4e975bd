package conflict

import (
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

var cols = []change.Column{{Name: "id", Key: true}, {Name: "a"}, {Name: "b"}}

func row(id int64, a, b string) change.Row {
	return change.Row{change.Int(id), change.Text(a), change.Text(b)}
}

var (
	t1 = time.Date(2026, 11, 23, 10, 0, 0, 1000, time.UTC)
	t2 = t1.Add(time.Millisecond)
)

func TestDetect(t *testing.T) {
	keyOnly := change.Row{change.Int(1), change.Absent(), change.Absent()}
	cases := []struct {
		name string
		in   Input
		want Kind
	}{
		{"insert, no row", Input{Op: change.OpInsert, After: row(1, "x", "y")}, None},
		{"insert, row exists", Input{Op: change.OpInsert, After: row(1, "x", "y"), Current: row(1, "x", "y")}, InsertExists},
		{"update, before matches", Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), Current: row(1, "x", "y")}, None},
		{"update, before differs", Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), Current: row(1, "x", "q")}, UpdateDiffers},
		{"update, no row", Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y")}, UpdateMissing},
		{"update, key-only before ignores absent columns", Input{Op: change.OpUpdate, Before: keyOnly, After: row(1, "z", "y"), Current: row(1, "x", "q")}, None},
		{"update, no before, target time unknown", Input{Op: change.OpUpdate, After: row(1, "z", "y"), CommitTime: t1, Current: row(1, "x", "q")}, None},
		{"delete, before matches", Input{Op: change.OpDelete, Before: row(1, "x", "y"), Current: row(1, "x", "y")}, None},
		{"delete, before differs", Input{Op: change.OpDelete, Before: row(1, "x", "y"), Current: row(1, "x", "")}, DeleteDiffers},
		{"delete, NULL vs empty string differs", Input{Op: change.OpDelete, Before: change.Row{change.Int(1), change.Null(), change.Text("y")}, Current: row(1, "", "y")}, DeleteDiffers},
		{"delete, no row", Input{Op: change.OpDelete, Before: row(1, "x", "y")}, DeleteMissing},
		{"delete, key-only before", Input{Op: change.OpDelete, Before: keyOnly, Current: row(1, "x", "y")}, None},
	}
	for _, c := range cases {
		c.in.Columns = cols
		if got := Detect(&c.in); got != c.want {
			t.Errorf("%s: Detect = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestResolve(t *testing.T) {
	lww := Rule{Policy: LastWriterWins}
	cases := []struct {
		name    string
		rule    Rule
		in      Input
		kind    Kind
		res     Resolution
		op      change.Op
		wantRow change.Row
	}{
		{"no conflict applies as is", lww,
			Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), Current: row(1, "x", "y")},
			None, Applied, change.OpUpdate, row(1, "z", "y")},
		{"lww: later incoming overwrites", lww,
			Input{CurrentLocal: true, Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), CommitTime: t2, Current: row(1, "x", "q"), CurrentTime: t1},
			UpdateDiffers, IncomingWins, change.OpUpdate, row(1, "z", "y")},
		{"lww: later target kept", lww,
			Input{CurrentLocal: true, Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), CommitTime: t1, Current: row(1, "x", "q"), CurrentTime: t2},
			UpdateDiffers, TargetWins, 0, nil},
		{"lww: tie goes to blue (incoming blue)", lww,
			Input{CurrentLocal: true, Op: change.OpInsert, After: row(1, "b", "b"), From: Blue, CommitTime: t1, Current: row(1, "g", "g"), CurrentTime: t1},
			InsertExists, IncomingWins, change.OpUpdate, row(1, "b", "b")},
		{"lww: tie goes to blue (incoming green)", lww,
			Input{CurrentLocal: true, Op: change.OpInsert, After: row(1, "g", "g"), From: Green, CommitTime: t1, Current: row(1, "b", "b"), CurrentTime: t1},
			InsertExists, TargetWins, 0, nil},
		{"lww: unknown target time loses", lww,
			Input{CurrentLocal: true, Op: change.OpInsert, After: row(1, "g", "g"), From: Green, CommitTime: t1, Current: row(1, "b", "b")},
			InsertExists, IncomingWins, change.OpUpdate, row(1, "g", "g")},
		{"lww: update of a row the target deleted later is dropped", lww,
			Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), CommitTime: t1, Deleted: t2},
			UpdateMissing, TargetWins, 0, nil},
		{"lww: update of a row the target deleted earlier is inserted", lww,
			Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), CommitTime: t2, Deleted: t1},
			UpdateMissing, IncomingWins, change.OpInsert, row(1, "z", "y")},
		{"lww: update of a row never there is inserted", lww,
			Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), CommitTime: t2},
			UpdateMissing, IncomingWins, change.OpInsert, row(1, "z", "y")},
		{"lww: insert older than the target's delete stays deleted", lww,
			Input{Op: change.OpInsert, After: row(1, "z", "y"), CommitTime: t1, Deleted: t2},
			InsertDeleted, TargetWins, 0, nil},
		{"lww: insert newer than the target's delete applies", lww,
			Input{Op: change.OpInsert, After: row(1, "z", "y"), CommitTime: t2, Deleted: t1},
			None, Applied, change.OpInsert, row(1, "z", "y")},
		{"lww: earlier delete loses to a later local update", lww,
			Input{Op: change.OpDelete, Before: row(1, "x", "y"), CommitTime: t1, Current: row(1, "x", "q"), CurrentTime: t2, CurrentLocal: true},
			DeleteDiffers, TargetWins, 0, nil},
		{"lww: later delete beats an earlier local update", lww,
			Input{Op: change.OpDelete, Before: row(1, "x", "y"), CommitTime: t2, Current: row(1, "x", "q"), CurrentTime: t1, CurrentLocal: true},
			DeleteDiffers, IncomingWins, change.OpDelete, nil},
		{"any policy: a row from this same stream yields to its later change", Rule{Policy: GreenWins},
			Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), From: Blue, CommitTime: t1, Current: row(1, "x", "q"), CurrentTime: t2},
			UpdateDiffers, IncomingWins, change.OpUpdate, row(1, "z", "y")},
		{"lww column: later column value wins", Rule{Policy: LastWriterWins, TimestampColumn: "a"},
			Input{CurrentLocal: true, Op: change.OpUpdate, Before: row(1, "1", "y"), After: row(1, "3", "y"), CommitTime: t1, Current: row(1, "2", "q"), CurrentTime: t2},
			UpdateDiffers, IncomingWins, change.OpUpdate, row(1, "3", "y")},
		{"lww column: NULL is earliest", Rule{Policy: LastWriterWins, TimestampColumn: "a"},
			Input{CurrentLocal: true, Op: change.OpUpdate, Before: row(1, "1", "y"), After: change.Row{change.Int(1), change.Null(), change.Text("y")}, Current: row(1, "2", "q")},
			UpdateDiffers, TargetWins, 0, nil},
		{"delete of a missing row converged", Rule{Policy: Manual},
			Input{Op: change.OpDelete, Before: row(1, "x", "y")},
			DeleteMissing, Converged, 0, nil},
		{"target already equal converged", Rule{Policy: Manual},
			Input{CurrentLocal: true, Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), Current: row(1, "z", "y")},
			UpdateDiffers, Converged, 0, nil},
		{"manual leaves it", Rule{Policy: Manual},
			Input{CurrentLocal: true, Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), Current: row(1, "x", "q")},
			UpdateDiffers, Unresolved, 0, nil},
		{"blue-wins: blue's update of a row green deleted is inserted", Rule{Policy: BlueWins},
			Input{Op: change.OpUpdate, Before: row(1, "x", "y"), After: row(1, "z", "y"), From: Blue},
			UpdateMissing, IncomingWins, change.OpInsert, row(1, "z", "y")},
		{"green-wins: blue's delete of a row green changed is dropped", Rule{Policy: GreenWins},
			Input{CurrentLocal: true, Op: change.OpDelete, Before: row(1, "x", "y"), From: Blue, Current: row(1, "x", "q")},
			DeleteDiffers, TargetWins, 0, nil},
		{"blue-wins: unchanged TOAST filled from the before image", Rule{Policy: BlueWins},
			Input{CurrentLocal: true, Op: change.OpUpdate, Before: row(1, "x", "big"), After: change.Row{change.Int(1), change.Text("z"), change.Unchanged()}, From: Blue, Current: row(1, "q", "big")},
			UpdateDiffers, IncomingWins, change.OpUpdate, row(1, "z", "big")},
		{"blue-wins: an incomplete row cannot be inserted", Rule{Policy: BlueWins},
			Input{Op: change.OpUpdate, Before: change.Row{change.Int(1), change.Text("x"), change.Absent()}, After: change.Row{change.Int(1), change.Text("z"), change.Unchanged()}, From: Blue},
			UpdateMissing, Unresolved, 0, nil},
	}
	for _, c := range cases {
		c.in.Columns = cols
		d := Resolve(c.rule, &c.in)
		if d.Kind != c.kind || d.Resolution != c.res || d.Op != c.op {
			t.Errorf("%s: got %s/%s/op %s (%s), want %s/%s/op %s", c.name, d.Kind, d.Resolution, d.Op, d.Reason, c.kind, c.res, c.op)
			continue
		}
		if c.wantRow != nil && !rowsEqual(d.Row, c.wantRow) {
			t.Errorf("%s: row %v, want %v", c.name, d.Row, c.wantRow)
		}
		if d.Kind != None && d.Reason == "" {
			t.Errorf("%s: no reason given", c.name)
		}
	}
}

func rowsEqual(a, b change.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !change.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestParsePolicy(t *testing.T) {
	for _, p := range []Policy{LastWriterWins, BlueWins, GreenWins, Manual} {
		got, err := ParsePolicy(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePolicy(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParsePolicy("newest"); err == nil {
		t.Error("ParsePolicy(newest) succeeded")
	}
}

// TestSame: with Input.Same set, every comparison goes through it —
// detection, the "converged" check and column-merge's view of what the
// change modified — and the decision's row keeps the incoming values.
func TestSame(t *testing.T) {
	// Column b compares without case; the others as change.Equal does.
	same := func(i int, a, b change.Value) bool {
		if i == 2 && a.Kind == change.KindText && b.Kind == change.KindText {
			return strings.EqualFold(a.S, b.S)
		}
		return change.Equal(a, b)
	}
	in := Input{Op: change.OpUpdate, Columns: cols, Before: row(1, "x", "y"), After: row(1, "z", "y"), Current: row(1, "x", "Y"), CurrentLocal: true}
	if k := Detect(&in); k != UpdateDiffers {
		t.Errorf("without Same: Detect = %s, want update_differs", k)
	}
	in.Same = same
	if d := Resolve(Rule{Policy: Manual}, &in); d.Kind != None || d.Op != change.OpUpdate || !rowsEqual(d.Row, row(1, "z", "y")) {
		t.Errorf("with Same: %+v, want no conflict and the incoming row", d)
	}
	in.Op = change.OpDelete
	if k := Detect(&in); k != None {
		t.Errorf("delete with Same: Detect = %s, want none", k)
	}
	// Converged: the target holds the incoming row in its own spelling.
	in = Input{Op: change.OpUpdate, Columns: cols, Before: row(1, "x", "y"), After: row(1, "z", "q"), Current: row(1, "z", "Q"), CurrentLocal: true, Same: same}
	if d := Resolve(Rule{Policy: Manual}, &in); d.Kind != UpdateDiffers || d.Resolution != Converged {
		t.Errorf("converged with Same: %s/%s, want update_differs/converged", d.Kind, d.Resolution)
	}
	// column-merge: b's before and after are the same data, so the change
	// did not modify it; a differs on the target, so it is written.
	in = Input{Op: change.OpUpdate, Columns: cols, Before: row(1, "x", "y"), After: row(1, "z", "Y"), Current: row(1, "w", "q"), CurrentLocal: true, Same: same}
	d := Resolve(Rule{Policy: ColumnMerge}, &in)
	if d.Resolution != Merged || !change.Equal(d.Row[1], change.Text("z")) || d.Row[2].Kind != change.KindUnchanged {
		t.Errorf("column-merge with Same: %s, row %v; want merged, a written, b kept", d.Resolution, d.Row)
	}
}
