package snapshot

import (
	"context"
	"io"

	"github.com/bgsync/bgsync/change"
)

// Source opens consistent views of a source database.
type Source interface {
	// Open opens n views (n >= 1) for concurrent reading, one connection
	// each. On PostgreSQL all n share one exported snapshot, so they have
	// the same Position; on MariaDB/MySQL each view is its own consistent
	// snapshot with its own Position. The caller closes every view.
	Open(ctx context.Context, n int) ([]View, error)
}

// View is one consistent, read-only view of the source. A View is used by
// one goroutine at a time.
type View interface {
	// Position is the source position the view matches: every transaction
	// at or below it is visible in the view, none above it. Positions
	// compare with the positions of the source's captured transactions.
	Position() change.Position
	// Columns describes the table's columns in the order Read returns
	// them (generated columns left out), Key set on the primary key.
	Columns(ctx context.Context, t change.Table) ([]change.Column, error)
	// Estimate is the table's approximate row count (statistics, not a
	// count), for progress; 0 when unknown.
	Estimate(ctx context.Context, t change.Table) (int64, error)
	// Split returns the primary-key values that cut t into ranges of about
	// rows rows each, in key order: ranges [nil, c0), [c0, c1), ...,
	// [cN, nil). No cut: one range. A cut is opaque to the caller: it is
	// stored on the target and handed back, possibly to another View of
	// the same source after a restart.
	Split(ctx context.Context, t change.Table, rows int) ([][]string, error)
	// Read calls emit with the rows of t whose key k has lower <= k <
	// upper (a nil bound is open), in batches, values in Columns order and
	// decoded exactly as the source's capture decodes the same row. emit
	// may keep nothing: the batch is reused once it returns. An error from
	// emit ends Read with that error.
	Read(ctx context.Context, t change.Table, lower, upper Cut, emit func([]change.Row) error) error
	Close() error
}

// Cut is one key value in the form a Source prints and reads back: one
// string per key column. (An alias, so the engines' views, which do not
// import this package, implement View with plain []string.)
type Cut = []string

// CopyReader is a View that can also write a range as PostgreSQL COPY text
// (the columns of Columns, tab-separated, one row per line), so a table
// that needs no mapping goes from source to target without being decoded.
type CopyReader interface {
	CopyOut(ctx context.Context, t change.Table, lower, upper Cut, w io.Writer) error
}
