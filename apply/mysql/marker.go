package mysql

import (
	"context"
	"database/sql"

	"github.com/bgsync/bgsync/change"
)

// Loop prevention without skip_replication (MySQL 8): every target
// transaction of an Applier with the marker on writes its direction's row
// in <schema>.apply_marker first, before any row change, and counts the
// write, so the row changes in every transaction and the binlog always
// carries the event. A capture on this database drops a transaction that
// contains a change to that table (EchoByMarker); with the marker first, a
// capture that streams a transaction can tell at its first row event.

// IsMarker reports whether t is the marker table of bgsync's database
// schema.
func IsMarker(t change.Table, schema string) bool {
	return t.Schema == schema && t.Name == MarkerTableName
}

// EchoByMarker reports whether txn, read from a binlog, is one bgsync
// applied: it carries a change to the marker table of bgsync's database
// schema. A capture calls it on each transaction and drops the echoes.
func EchoByMarker(txn *change.Txn, schema string) bool {
	for i := range txn.Changes {
		c := &txn.Changes[i]
		if IsMarker(c.Table, schema) {
			return true
		}
		for _, t := range c.Truncate {
			if IsMarker(t, schema) {
				return true
			}
		}
	}
	return false
}

// writeMarker upserts this direction's marker row in the open transaction.
func (a *Applier) writeMarker(ctx context.Context, tx *sql.Tx, pos change.Position) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO "+quoteIdent(a.cfg.Schema)+"."+MarkerTableName+
		" (direction, source_position, writes, applied_at) VALUES (?, ?, 1, UTC_TIMESTAMP(6))"+
		" ON DUPLICATE KEY UPDATE source_position = VALUES(source_position), writes = writes + 1,"+
		" applied_at = VALUES(applied_at)", a.cfg.Direction, uint64(pos))
	if err != nil {
		return &TargetError{Op: "write the apply marker", Err: err}
	}
	return nil
}
