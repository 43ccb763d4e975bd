package conflict

import (
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

var stampCols = []change.Column{{Name: "id", Key: true}, {Name: "v"}, {Name: "at"}}

func stampRow(v string, at change.Value) change.Row {
	return change.Row{change.Int(1), change.Text(v), at}
}

// TestStampWriteAgainstDelete: one side writes a row stamped w (its
// timestamp column) while the other deletes it at d. Each side decides
// the other's change against its own state; under last-writer-wins with
// the column both must keep the same outcome, whatever the commit times
// say, and the write must win exactly when its stamp is later (a tie goes
// to blue).
func TestStampWriteAgainstDelete(t *testing.T) {
	rule := Rule{Policy: LastWriterWins, TimestampColumn: "at"}
	d := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		stamp change.Value
		// writeWins is the outcome both sides must reach.
		writeWins bool
		writer    Side
	}{
		{"write later", change.TimestampTZOf(d.Add(300 * time.Millisecond)), true, Blue},
		{"write earlier", change.TimestampTZOf(d.Add(-time.Microsecond)), false, Blue},
		{"write later, DATETIME without zone", change.Timestamp(d.Add(time.Second).UnixMicro() - change.Epoch2000Unix), true, Green},
		{"tie, blue writes", change.TimestampTZOf(d), true, Blue},
		{"tie, green writes", change.TimestampTZOf(d), false, Green},
		{"NULL stamp loses to any delete", change.Null(), false, Blue},
	} {
		t.Run(c.name, func(t *testing.T) {
			deleter := Blue
			if c.writer == Blue {
				deleter = Green
			}
			before := stampRow("old", change.TimestampTZOf(d.Add(-time.Hour)))
			after := stampRow("new", c.stamp)
			// Commit times that disagree with the stamp: the writer
			// committed well after the delete, so ordering by them would
			// always keep the write.
			writeCommit, deleteCommit := d.Add(time.Minute), d

			// On the deleting side: the write arrives, the row is gone
			// (update_missing against the tombstone).
			onDeleter := Resolve(rule, &Input{Op: change.OpUpdate, Columns: stampCols, Before: before, After: after,
				From: c.writer, CommitTime: writeCommit, Deleted: deleteCommit})
			// On the writing side: the delete arrives, the row differs
			// (delete_differs against the written row).
			onWriter := Resolve(rule, &Input{Op: change.OpDelete, Columns: stampCols, Before: before,
				From: deleter, CommitTime: deleteCommit, Current: after, CurrentTime: writeCommit, CurrentLocal: true})

			if onDeleter.Kind != UpdateMissing || onWriter.Kind != DeleteDiffers {
				t.Fatalf("kinds %s / %s, want update_missing / delete_differs", onDeleter.Kind, onWriter.Kind)
			}
			// The write wins: the deleting side inserts it, the writing side keeps it.
			gotDeleter := onDeleter.Op == change.OpInsert
			gotWriter := onWriter.Op == 0
			if gotDeleter != c.writeWins || gotWriter != c.writeWins {
				t.Fatalf("write wins on the deleting side %v (%s), on the writing side %v (%s); want %v on both",
					gotDeleter, onDeleter.Reason, gotWriter, onWriter.Reason, c.writeWins)
			}
			if !strings.Contains(onDeleter.Reason, "at against the delete") || !strings.Contains(onWriter.Reason, "at against the delete") {
				t.Errorf("reasons %q / %q do not say the column ordered them", onDeleter.Reason, onWriter.Reason)
			}
		})
	}
}

// TestStampInsertDeleted: an insert stamped before the target's delete of
// its key is insert_deleted and loses; stamped after, it is no conflict.
func TestStampInsertDeleted(t *testing.T) {
	rule := Rule{Policy: LastWriterWins, TimestampColumn: "at"}
	d := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	in := Input{Op: change.OpInsert, Columns: stampCols, After: stampRow("x", change.TimestampTZOf(d.Add(-time.Second))),
		From: Blue, CommitTime: d.Add(time.Hour), Deleted: d}
	if got := Resolve(rule, &in); got.Kind != InsertDeleted || got.Resolution != TargetWins {
		t.Fatalf("insert stamped before the delete: %s/%s (%s), want insert_deleted/target_wins", got.Kind, got.Resolution, got.Reason)
	}
	in.After = stampRow("x", change.TimestampTZOf(d.Add(time.Second)))
	in.CommitTime = d.Add(-time.Hour)
	if got := Resolve(rule, &in); got.Kind != None || got.Op != change.OpInsert {
		t.Fatalf("insert stamped after the delete: %s op %s, want none/insert", got.Kind, got.Op)
	}
}

// TestStampNotATime: a timestamp column holding no time (an integer
// version) leaves commit times to order a write and a delete.
func TestStampNotATime(t *testing.T) {
	rule := Rule{Policy: LastWriterWins, TimestampColumn: "at"}
	d := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	in := Input{Op: change.OpUpdate, Columns: stampCols, Before: stampRow("a", change.Int(1)), After: stampRow("b", change.Int(2)),
		From: Green, CommitTime: d.Add(time.Second), Deleted: d}
	if got := Resolve(rule, &in); got.Op != change.OpInsert || !strings.Contains(got.Reason, "commit time") {
		t.Fatalf("got op %s (%s), want the later commit to insert", got.Op, got.Reason)
	}
}

// TestStampZone: a timestamp column that is DATETIME (wall time in the
// transforms' zone, Europe/Berlin) on one side and timestamptz on the
// other is read as the same instant on both, so a write at 09:30Z and a
// delete at 10:00Z go the delete's way on both sides; read as UTC, the
// DATETIME side would see the write at 10:30 and keep it.
func TestStampZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	rule := Rule{Policy: LastWriterWins, TimestampColumn: "at", Zone: berlin}
	del := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	write := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	wall := write.In(berlin) // 10:30 on the DATETIME side
	wallValue := change.Timestamp(time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, time.UTC).UnixMicro() - change.Epoch2000Unix)
	before := stampRow("old", change.Null())

	// The DATETIME side deleted; green's write arrives mapped to wall time.
	onDeleter := Resolve(rule, &Input{Op: change.OpUpdate, Columns: stampCols, Before: before, After: stampRow("new", wallValue),
		From: Green, CommitTime: write, Deleted: del})
	// The timestamptz side wrote; blue's delete arrives.
	onWriter := Resolve(rule, &Input{Op: change.OpDelete, Columns: stampCols, Before: before, From: Blue, CommitTime: del,
		Current: stampRow("new", change.TimestampTZOf(write)), CurrentTime: write, CurrentLocal: true})
	if onDeleter.Op != 0 || onWriter.Op != change.OpDelete {
		t.Fatalf("deleting side: op %s (%s); writing side: op %s (%s); want the delete to win on both", onDeleter.Op, onDeleter.Reason, onWriter.Op, onWriter.Reason)
	}
	rule.Zone = nil
	if d := Resolve(rule, &Input{Op: change.OpUpdate, Columns: stampCols, Before: before, After: stampRow("new", wallValue),
		From: Green, CommitTime: write, Deleted: del}); d.Op != change.OpInsert {
		t.Fatalf("read as UTC the wall time 10:30 should beat the 10:00 delete (the check the zone prevents); got op %s", d.Op)
	}
}
