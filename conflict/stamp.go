package conflict

import (
	"time"

	"github.com/bgsync/bgsync/change"
)

// A write against a delete under last-writer-wins with a timestamp column.
//
// Two writes compare the column. A write and a delete — update_missing and
// insert_deleted (the target deleted the key), delete_differs (the
// incoming change is the delete) — are ordered by the write's column value
// against the delete's time: the target's tombstone, or the incoming
// delete's source time. Both sides of a pair then compare the same two
// times whatever engine each runs, where commit times would not do: a
// MariaDB or MySQL target records no commit time per row, so it can only
// know a write by its column, and the other side must order the same pair
// the same way. A value without a time zone is wall time in Rule.Zone
// (UTC by default). A write whose column is NULL counts as older than any
// delete. A column whose values are not timestamps cannot be set against
// a time: commit times decide then, as without a column.

// stamped returns in with the write's time taken from the rule's
// timestamp column where a write meets a delete (see above), and the name
// its decision gives that time; in itself where that does not apply.
func (r Rule) stamped(in *Input) *Input {
	if r.Policy != LastWriterWins || r.TimestampColumn == "" {
		return in
	}
	deleteMeetsRow := in.Op == change.OpDelete && in.Current != nil
	// A write meeting no row matters only against a known delete: without
	// one it is no conflict, or wins whatever its time.
	writeMeetsDelete := in.Op != change.OpDelete && in.Current == nil && !in.Deleted.IsZero()
	if !deleteMeetsRow && !writeMeetsDelete {
		return in
	}
	i := columnIndex(in.Columns, r.TimestampColumn)
	if i < 0 {
		return in
	}
	row := in.After
	if deleteMeetsRow {
		row = in.Current
	}
	t, ok := stampOf(row, i, r.Zone)
	if !ok {
		return in
	}
	out := *in
	out.orderedBy = "time (the write's " + r.TimestampColumn + " against the delete)"
	if deleteMeetsRow {
		out.CurrentTime = t
	} else {
		out.CommitTime = t
	}
	return &out
}

// nullStamp is the time of a write whose timestamp column is NULL: before
// any delete.
var nullStamp = time.Unix(0, 0).UTC()

// stampOf reads column i of row as a time: a timestamp with time zone, or
// one without as wall time in zone (nil: UTC); NULL is nullStamp; ok is
// false for any other value.
func stampOf(row change.Row, i int, zone *time.Location) (time.Time, bool) {
	if i >= len(row) {
		return time.Time{}, false
	}
	switch v := row[i]; v.Kind {
	case change.KindNull:
		return nullStamp, true
	case change.KindTimestampTZ:
		return time.UnixMicro(v.I + change.Epoch2000Unix).UTC(), true
	case change.KindTimestamp:
		t := time.UnixMicro(v.I + change.Epoch2000Unix).UTC()
		if zone != nil && zone != time.UTC {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone).UTC()
		}
		return t, true
	}
	return time.Time{}, false
}
