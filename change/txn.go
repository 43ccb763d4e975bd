package change

import "time"

// Op is the kind of a row change.
type Op uint8

const (
	OpInsert Op = iota + 1
	OpUpdate
	OpDelete
	OpTruncate
)

func (o Op) String() string {
	switch o {
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	case OpTruncate:
		return "truncate"
	}
	return "unknown"
}

// Table identifies a table on one side.
type Table struct {
	Schema string
	Name   string
}

func (t Table) String() string { return t.Schema + "." + t.Name }

// Column describes one column of a row image.
type Column struct {
	Name string
	// Type is the source's declared type name (e.g. "numeric", "text[]"),
	// informational: appliers use the target's own column types.
	Type string
	// Key is true for the columns of the replica identity / primary key.
	Key bool
}

// Row is a row image: Values[i] belongs to the Columns[i] of its Change.
type Row []Value

// Change is one row change (or one TRUNCATE) inside a source transaction.
type Change struct {
	Op    Op
	Table Table
	// Columns names the columns of After (and of Before when present).
	Columns []Column
	// Before is the old image: nil for inserts and for updates whose source
	// sent none (PostgreSQL REPLICA IDENTITY DEFAULT without a key change).
	// With DEFAULT identity only key columns are known; the others are
	// KindAbsent. With FULL it is the whole old row.
	Before Row
	// After is the new image: nil for deletes and truncates.
	After Row
	// Seq is the change's place in its transaction, from 0.
	Seq uint32
	// Truncate lists the tables of a TRUNCATE (Op == OpTruncate); Table is
	// then the first of them.
	Truncate []Table
	// Cascade and RestartIdentity are TRUNCATE options.
	Cascade, RestartIdentity bool
	// Time is when the source wrote this change, for a source that records
	// it per statement and where it differs from the transaction's commit
	// time: MariaDB/MySQL row events carry the start of the statement that
	// made them (whole seconds), the commit event that of the COMMIT.
	// Zero means the transaction's CommitTime (PostgreSQL: always). It is
	// the time conflict policies order this change by (Txn.TimeOf). It
	// lies within MaxTimeOffset of CommitTime; a source reporting a time
	// further off leaves it zero.
	Time time.Time
}

// MaxTimeOffset bounds how far a change's own Time may lie from its
// transaction's commit time (2^45 µs, about 13 months): further is a
// clock set by hand (SET TIMESTAMP), not a transaction.
const MaxTimeOffset = (1 << 45) * time.Microsecond

// TimeWithin reports whether t may be the Time of a change committed at
// commit (see MaxTimeOffset).
func TimeWithin(t, commit time.Time) bool {
	d := t.Sub(commit)
	return d >= -MaxTimeOffset && d <= MaxTimeOffset
}

// Txn is one committed source transaction.
type Txn struct {
	// ID is the source transaction id (PostgreSQL xid).
	ID uint64
	// Position orders transactions and is what gets acknowledged.
	Position Position
	// CommitTime is the source commit timestamp.
	CommitTime time.Time
	// Origin is the replication origin that wrote the transaction on the
	// source, empty for application writes.
	Origin  string
	Changes []Change
}

// TimeOf returns when the source wrote c, a change of t: c.Time where the
// source recorded one, else t's commit time.
func (t *Txn) TimeOf(c *Change) time.Time {
	if !c.Time.IsZero() {
		return c.Time
	}
	return t.CommitTime
}
