package conflict

import (
	"bytes"
	"cmp"
	"time"

	"github.com/bgsync/bgsync/change"
)

// Rule is the conflict handling of one table.
type Rule struct {
	Policy Policy
	// TimestampColumn, for last-writer-wins, names a column whose value
	// orders writes instead of the source commit times; a write against a
	// delete is ordered by it against the delete's time (stamp.go).
	TimestampColumn string
	// Zone is the time zone a TimestampColumn value without one (DATETIME,
	// timestamp) is wall time in; nil is UTC.
	Zone *time.Location
}

// Decision is what the target should do with an incoming change.
type Decision struct {
	Kind       Kind
	Resolution Resolution
	// Reason says why, in a few words, for the conflict log.
	Reason string
	// Op is the operation to run on the target, 0 for nothing. OpInsert
	// writes Row whole; OpUpdate writes Row's values by the change's key,
	// leaving KindUnchanged columns as they are; OpDelete deletes the key.
	Op  change.Op
	Row change.Row
}

// Resolve decides in under rule. Detect runs first; a change without
// conflict comes back as it is, with Resolution Applied.
func Resolve(rule Rule, in *Input) Decision {
	in = rule.stamped(in)
	d := Decision{Kind: Detect(in)}
	if d.Kind == None {
		d.Op, d.Row = in.Op, in.After
		return d
	}
	after, full := complete(in.After, in.Before)
	switch d.Kind {
	case DeleteMissing:
		return d.converged("the row is already gone")
	case InsertExists, UpdateDiffers:
		if full && in.matches(after, in.Current) {
			return d.converged("the target already holds the incoming row")
		}
	}
	if rule.Policy == ColumnMerge && (d.Kind == InsertExists || d.Kind == UpdateDiffers) {
		return merge(d, in)
	}
	if in.Current != nil && !in.CurrentLocal {
		why := "the target row came from the same source; its later change wins"
		if d.Kind == DeleteDiffers {
			d.Resolution, d.Reason, d.Op = IncomingWins, why, change.OpDelete
			return d
		}
		if !full {
			d.Resolution, d.Reason = Unresolved, incomplete
			return d
		}
		d.Resolution, d.Reason, d.Op, d.Row = IncomingWins, why, change.OpUpdate, after
		return d
	}
	if rule.Policy == Manual {
		d.Resolution, d.Reason = Unresolved, "manual policy: left for a person to decide"
		return d
	}
	switch d.Kind {
	case InsertExists, UpdateDiffers:
		incoming, why := incomingWins(rule, in)
		if !incoming {
			return d.kept(why)
		}
		d.Resolution, d.Reason, d.Op, d.Row = IncomingWins, why, change.OpUpdate, after
	case InsertDeleted, UpdateMissing:
		incoming, why := incomingWins(rule, in)
		if !incoming {
			return d.kept(why)
		}
		if !full {
			d.Resolution, d.Reason = Unresolved, incomplete
			return d
		}
		d.Resolution, d.Reason, d.Op, d.Row = IncomingWins, why, change.OpInsert, after
	case DeleteDiffers:
		incoming, why := incomingWins(rule, in)
		if !incoming {
			return d.kept(why)
		}
		d.Resolution, d.Reason, d.Op = IncomingWins, why, change.OpDelete
	}
	return d
}

const incomplete = "the incoming row lacks unchanged TOAST values and cannot be written whole"

func (d Decision) converged(why string) Decision {
	d.Resolution, d.Reason = Converged, why
	return d
}

func (d Decision) kept(why string) Decision {
	d.Resolution, d.Reason = TargetWins, why
	return d
}

// incomingWins picks the winner of two writes under an automatic policy.
func incomingWins(rule Rule, in *Input) (bool, string) {
	switch rule.Policy {
	case ColumnMerge:
		return laterWins(in) // row-level events: a delete, a missing row
	case BlueWins:
		return in.From == Blue, "blue wins"
	case GreenWins:
		return in.From == Green, "green wins"
	}
	i := -1
	if rule.TimestampColumn != "" && in.After != nil && in.Current != nil {
		i = columnIndex(in.Columns, rule.TimestampColumn)
	}
	if i >= 0 && i < len(in.After) && i < len(in.Current) {
		return decide(compareValues(in.After[i], in.Current[i]), rule.TimestampColumn, in.From)
	}
	return laterWins(in)
}

// laterWins orders a write and a delete, or two writes, by commit time
// (or by the times Rule.stamped put in their place).
func laterWins(in *Input) (bool, string) {
	target := in.CurrentTime
	if in.Current == nil {
		target = in.Deleted
	}
	c := 1 // no known time: older than commit timestamps reach, or never there
	if !target.IsZero() {
		c = in.CommitTime.Compare(target)
	}
	what := "commit time"
	if in.orderedBy != "" {
		what = in.orderedBy
	}
	return decide(c, what, in.From)
}

// decide reads a comparison of incoming to target; a tie goes to blue on
// both sides.
func decide(c int, what string, from Side) (bool, string) {
	switch {
	case c > 0:
		return true, "incoming " + what + " is later"
	case c < 0:
		return false, "target " + what + " is later"
	}
	return from == Blue, "equal " + what + ": blue wins the tie"
}

func columnIndex(cols []change.Column, name string) int {
	for i := range cols {
		if cols[i].Name == name {
			return i
		}
	}
	return -1
}

// compareValues orders two values of one column: NULL first, then by the
// kind's natural order where it has one, else by canonical encoding, so the
// order is total and the same on both sides.
func compareValues(a, b change.Value) int {
	if a.Kind == change.KindNull || b.Kind == change.KindNull {
		return cmp.Compare(notNull(a), notNull(b))
	}
	if a.Kind == b.Kind {
		switch a.Kind {
		case change.KindInt, change.KindDate, change.KindTime, change.KindTimestamp, change.KindTimestampTZ:
			return cmp.Compare(a.I, b.I)
		case change.KindUint:
			return cmp.Compare(a.Uint(), b.Uint())
		case change.KindFloat:
			return cmp.Compare(a.Float(), b.Float())
		case change.KindText:
			return cmp.Compare(a.S, b.S)
		}
	}
	return bytes.Compare(change.AppendValue(nil, a), change.AppendValue(nil, b))
}

func notNull(v change.Value) int {
	if v.Kind == change.KindNull {
		return 0
	}
	return 1
}
