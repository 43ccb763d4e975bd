package mysql

import (
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// Ordering a write against a delete on a MySQL target (see doc.go,
// "Deletes"). The target's delete time is its tombstone; the other side
// learns of that delete through this side's binlog, whose commit times are
// whole seconds, so the tombstone counts at that precision too: both
// sides then compare the same two times. Under last-writer-wins with a
// timestamp column the write's time is that column's value on both sides
// (MySQL records no commit time per row): the incoming row's where the
// target deleted the key (update_missing, insert_deleted), the target
// row's where the incoming change is the delete (delete_differs).

// orderTimes sets in's Deleted from rs and, under a timestamp column,
// the write times conflict.Resolve orders a write and a delete by.
func (st *tableState) orderTimes(in *conflict.Input, rs *rowState) {
	in.Deleted = rs.deleted.Truncate(time.Second)
	col := st.rule.TimestampColumn
	if col == "" || (st.rule.Policy != conflict.LastWriterWins && st.rule.Policy != conflict.ColumnMerge) {
		return
	}
	i := columnIndex(in.Columns, col)
	switch {
	case i < 0:
	case in.Op == change.OpDelete && in.Current != nil:
		if t, ok := stampOf(in.Current, i); ok {
			in.CurrentTime = t
		}
	case in.Op != change.OpDelete && in.Current == nil:
		if t, ok := stampOf(in.After, i); ok {
			in.CommitTime = t
		}
	}
}

// stampOf reads column i of row as a time: a timestamp, with or without
// time zone (a DATETIME holds UTC wall time).
func stampOf(row change.Row, i int) (time.Time, bool) {
	if i >= len(row) {
		return time.Time{}, false
	}
	v := row[i]
	if v.Kind != change.KindTimestamp && v.Kind != change.KindTimestampTZ {
		return time.Time{}, false
	}
	return time.UnixMicro(v.I + change.Epoch2000Unix).UTC(), true
}
