package conflict

import (
	"time"

	"github.com/bgsync/bgsync/change"
)

// Input is an incoming row change and the target's current row.
type Input struct {
	Op      change.Op
	Columns []change.Column
	// Before and After are the incoming images (see change.Change).
	Before, After change.Row
	// From is the side the change was written on; CommitTime when the
	// source wrote it (change.Txn.TimeOf: the commit time, or a MariaDB or
	// MySQL statement's own time).
	From       Side
	CommitTime time.Time
	// Current is the target's row with the change's key, aligned with
	// Columns; nil when the target has no such row. KindAbsent marks a
	// value the applier does not know (not compared).
	Current change.Row
	// CurrentTime is the commit time of the current row's version; zero
	// when unknown (track_commit_timestamp off, or a frozen row).
	CurrentTime time.Time
	// CurrentLocal is true when that version was written on the target by
	// anything but this stream's applier: the application, or a person.
	// A version this stream wrote protects no write of the target's own.
	CurrentLocal bool
	// Deleted is the commit time of the target's last local delete of the
	// key (its tombstone), whether or not the key exists again; zero when
	// none is known.
	Deleted time.Time
	// ColumnTimes, for column-merge, aligned with Columns: the commit time
	// of the target's own last write of each column of the current row;
	// zero where the column was last written by this stream (or never by
	// the target itself).
	ColumnTimes []time.Time
	// Same, when set, reports whether a and b, two values of column i (of
	// Columns), hold the same data. Every comparison of an image with the
	// current row, and of the before image with the after image, goes
	// through it. An applier sets it where the target stores a column's
	// values in another spelling than the incoming images carry (JSON
	// text, compared by value). Nil: change.Equal.
	Same func(i int, a, b change.Value) bool

	// orderedBy names what CommitTime and CurrentTime hold when not the
	// commit times (Rule.stamped); empty for commit times.
	orderedBy string
}

// same compares two values of column i (see Input.Same).
func (in *Input) same(i int, a, b change.Value) bool {
	if in.Same != nil {
		return in.Same(i, a, b)
	}
	return change.Equal(a, b)
}

// Detect classifies in. See the package documentation.
func Detect(in *Input) Kind {
	switch in.Op {
	case change.OpInsert:
		switch {
		case in.Current != nil:
			return InsertExists
		case !in.Deleted.IsZero() && !in.Deleted.Before(in.CommitTime):
			return InsertDeleted
		}
	case change.OpUpdate:
		switch {
		case in.Current == nil:
			return UpdateMissing
		case !in.matches(in.Before, in.Current):
			return UpdateDiffers
		}
	case change.OpDelete:
		switch {
		case in.Current == nil:
			return DeleteMissing
		case !in.matches(in.Before, in.Current):
			return DeleteDiffers
		}
	}
	return None
}

// matches reports whether every column both the image and the row have a
// value for is the same.
func (in *Input) matches(img, row change.Row) bool {
	for i, v := range img {
		if !known(v) || i >= len(row) || !known(row[i]) {
			continue
		}
		if !in.same(i, v, row[i]) {
			return false
		}
	}
	return true
}

func known(v change.Value) bool { return v.Kind != change.KindAbsent && v.Kind != change.KindUnchanged }

// complete returns the after image with unchanged (TOAST) values taken from
// the before image where it has them, and whether every column now has a
// value.
func complete(after, before change.Row) (change.Row, bool) {
	out := after
	copied := false
	ok := true
	for i, v := range after {
		if v.Kind != change.KindUnchanged && v.Kind != change.KindAbsent {
			continue
		}
		if i < len(before) && before[i].Kind != change.KindUnchanged && before[i].Kind != change.KindAbsent {
			if !copied {
				out = append(change.Row(nil), after...)
				copied = true
			}
			out[i] = before[i]
			continue
		}
		ok = false
	}
	return out, ok
}
