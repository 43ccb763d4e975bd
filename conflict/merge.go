package conflict

import (
	"time"

	"github.com/bgsync/bgsync/change"
)

// merge decides insert_exists and update_differs under column-merge. The
// incoming change modified some columns (an update: those whose before and
// after values differ; an insert: all of them). Each is written unless the
// target changed that column since the source saw it (it no longer holds
// the incoming before value) and its own last write of the column is
// later (a tie goes to blue, as for rows); the target keeps every other
// column. Deciding "seen" by value first keeps clocks of different
// precision (a MariaDB source's whole seconds against a PostgreSQL
// target's microseconds) from undoing a write that came after the
// target's. The target row's origin
// does not matter: a column this stream wrote carries no time and loses to
// the stream's later change, while a column the target wrote keeps its own.
//
// The decision writes KindUnchanged for the columns the target keeps, so
// it never needs the target's whole row.
func merge(d Decision, in *Input) Decision {
	out := make(change.Row, len(in.After))
	wrote, kept := 0, 0 // columns written; columns where the target keeps a different value
	for i, v := range in.After {
		out[i] = change.Unchanged()
		if !known(v) || (i < len(in.Current) && known(in.Current[i]) && in.same(i, v, in.Current[i])) {
			continue // nothing to write, or the target already has it
		}
		if !modified(in, i) {
			kept++
			continue
		}
		var target time.Time
		if i < len(in.ColumnTimes) {
			target = in.ColumnTimes[i]
		}
		// The target still holds the value the source changed: it has not
		// written the column since (A→B→A aside), whatever the clocks say.
		seen := in.Op == change.OpUpdate && i < len(in.Before) && i < len(in.Current) &&
			known(in.Before[i]) && known(in.Current[i]) && in.same(i, in.Before[i], in.Current[i])
		incoming := target.IsZero() || seen
		if !incoming {
			incoming, _ = decide(in.CommitTime.Compare(target), "", in.From)
		}
		if incoming {
			out[i] = v
			wrote++
		} else {
			kept++
		}
	}
	switch {
	case wrote == 0 && kept == 0:
		return d.converged("the target already holds every column of the incoming row")
	case wrote == 0:
		return d.kept("the target wrote every column the incoming change modified, later")
	case kept == 0:
		d.Resolution, d.Reason = IncomingWins, "every column that differs was modified by the incoming change after the target's own write of it"
	default:
		d.Resolution, d.Reason = Merged, "columns merged: the incoming change's later column writes applied, the target's own later or other columns kept"
	}
	d.Op, d.Row = change.OpUpdate, out
	return d
}

// modified reports whether the incoming change wrote column i: every
// column of an insert; for an update, a column whose after value differs
// from its before value (a column without a before value counts as
// written).
func modified(in *Input, i int) bool {
	if in.Op == change.OpInsert {
		return true
	}
	if i >= len(in.Before) || !known(in.Before[i]) {
		return true
	}
	return !in.same(i, in.Before[i], in.After[i])
}
