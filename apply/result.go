package apply

import (
	"encoding/json"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// Result describes one Apply call of a target writer.
type Result struct {
	// Position is the highest source position now covered (applied or
	// skipped as already applied): safe to acknowledge.
	Position change.Position
	// Applied and Skipped count source transactions.
	Applied, Skipped int
	// Rows applied by operation.
	Inserted, Updated, Deleted, Truncated int
	// Missing counts updates and deletes that found no target row.
	Missing int
	// Conflicts counts the conflicts detected, by kind and resolution.
	Conflicts map[ConflictLabel]int
	// LastCommitTime is the source commit time of the last applied txn.
	LastCommitTime time.Time
	// Retries counts the times the group was rolled back and applied
	// again after losing a race with the application.
	Retries int
	// Heartbeats are the sequence numbers of the source's heartbeats this
	// call covered, now durably behind the target's checkpoint.
	// HeartbeatTxns of the Applied transactions carried nothing else.
	Heartbeats    []int64
	HeartbeatTxns int
}

// ConflictLabel is a conflict's kind and resolution, as the conflict
// package names them.
type ConflictLabel struct{ Kind, Resolution string }

// DeadLetter is a source change a transform could not map, set aside
// instead of applied (a table with on_error: dead-letter).
type DeadLetter struct {
	Txn    *change.Txn    // the source transaction it came in
	Change *change.Change // in the source's shape
	Target change.Table
	Column string // the target column that failed
	Expr   string // its expression; "" for a conversion
	Err    string
}

// Key renders the change's key columns as a JSON object (column → text).
func (d *DeadLetter) Key() []byte {
	img := d.Change.After
	if img == nil {
		img = d.Change.Before
	}
	var cols []change.Column
	var vals change.Row
	for i, c := range d.Change.Columns {
		if c.Key && i < len(img) {
			cols = append(cols, c)
			vals = append(vals, img[i])
		}
	}
	return ImageJSON(cols, vals)
}

// ImageJSON renders a row image as a JSON object of column → text in
// PostgreSQL's text form (null for NULL), whatever the engine, so conflict
// logs and dead letters read the same on both; columns without a value
// (absent, unchanged) are left out. A nil image is nil (SQL NULL).
func ImageJSON(cols []change.Column, img change.Row) []byte {
	if img == nil {
		return nil
	}
	m := make(map[string]*string, len(img))
	for i, v := range img {
		if i >= len(cols) || v.Kind == change.KindAbsent || v.Kind == change.KindUnchanged {
			continue
		}
		if v.Kind == change.KindNull {
			m[cols[i].Name] = nil
			continue
		}
		txt, err := pgtext.Encode(nil, v)
		s := string(txt)
		if err != nil {
			s = "<" + err.Error() + ">"
		}
		m[cols[i].Name] = &s
	}
	b, err := json.Marshal(m)
	if err != nil { // only invalid UTF-8 in a name can do this
		return []byte("{}")
	}
	return b
}
