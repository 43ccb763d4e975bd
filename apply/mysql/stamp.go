package mysql

import (
	"time"

	"github.com/bgsync/bgsync/conflict"
)

// Ordering a write against a delete on a MySQL target (see doc.go,
// "Deletes"). The target's delete time is its tombstone. The other side
// learns of that delete through this side's binlog, whose row events carry
// the deleting statement's start in whole seconds (change.Change.Time), so
// the tombstone counts at that precision too: the trigger's
// UTC_TIMESTAMP(6) is that same statement start, and cut to the second
// both sides compare the same two times. Under last-writer-wins with a
// timestamp column, conflict.Resolve orders the write by that column
// (MySQL records no commit time per row).

// orderTimes sets in's Deleted from rs's tombstone.
func (st *tableState) orderTimes(in *conflict.Input, rs *rowState) {
	in.Deleted = rs.deleted.Truncate(time.Second)
}
