package mysql

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/bgsync/bgsync/apply"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// conflictRecord is one row of bgsync's conflicts table.
type conflictRecord struct {
	args   []any
	label  ConflictLabel
	table  string
	key    string
	reason string
}

const conflictColumns = "(direction, table_name, `key`, kind, policy, resolution, reason, incoming_op, " +
	"incoming_before, incoming_after, target_row, incoming_commit_time, target_commit_time, " +
	"source_position, source_xid, resolved)"

const conflictWidth = 16

func (a *Applier) record(tt *TargetTable, c *change.Change, t *change.Txn, in *conflict.Input, rule conflict.Rule, d conflict.Decision) conflictRecord {
	keyImg := c.Before
	if keyImg == nil || !hasKey(tt, c, keyImg) {
		keyImg = c.After
	}
	keyCols := make([]change.Column, 0, len(tt.Key))
	keyVals := make(change.Row, 0, len(tt.Key))
	for _, k := range tt.Key {
		if i := columnIndex(c.Columns, k); i >= 0 && i < len(keyImg) {
			keyCols = append(keyCols, c.Columns[i])
			keyVals = append(keyVals, keyImg[i])
		}
	}
	key := apply.ImageJSON(keyCols, keyVals)
	policy := rule.Policy.String()
	if rule.TimestampColumn != "" {
		policy += " (" + rule.TimestampColumn + ")"
	}
	r := conflictRecord{
		label:  ConflictLabel{Kind: d.Kind.String(), Resolution: d.Resolution.String()},
		table:  tt.Name.String(),
		key:    string(key),
		reason: d.Reason,
	}
	r.args = []any{
		a.cfg.Direction, r.table, r.key,
		r.label.Kind, policy, r.label.Resolution, d.Reason, c.Op.String(),
		jsonArg(apply.ImageJSON(c.Columns, c.Before)), jsonArg(apply.ImageJSON(c.Columns, c.After)),
		jsonArg(apply.ImageJSON(c.Columns, in.Current)),
		timeArg(in.CommitTime), timeArg(targetTime(in)),
		a.cfg.positionText(t.Position), t.ID,
		d.Resolution != conflict.Unresolved,
	}
	return r
}

// targetTime is the target's time the decision could go by: the
// tombstone's where the target has no row, else zero (MySQL keeps no
// commit time per row; a timestamp column's value is in the row image).
func targetTime(in *conflict.Input) time.Time {
	if in.Current != nil {
		return in.CurrentTime
	}
	return in.Deleted
}

// logConflicts writes the group's conflicts, in multi-row INSERTs.
func (a *Applier) logConflicts(ctx context.Context, tx *sql.Tx, recs []conflictRecord) error {
	for len(recs) > 0 {
		n := min(len(recs), maxRowsPerStatement)
		var b strings.Builder
		b.WriteString("INSERT INTO " + quoteIdent(a.cfg.Schema) + ".conflicts " + conflictColumns + " VALUES ")
		tuple := "(?" + strings.Repeat(", ?", conflictWidth-1) + ")"
		args := make([]any, 0, n*conflictWidth)
		for i, r := range recs[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
			args = append(args, r.args...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return &TargetError{Op: "log conflicts", Err: err}
		}
		recs = recs[n:]
	}
	return nil
}

// jsonArg passes nil (SQL NULL) as such and JSON text as a string.
func jsonArg(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// timeArg is a DATETIME(6) argument in UTC, NULL for the zero time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(layoutStamp)
}

// Unresolved counts the conflicts of this Applier's direction on the
// target that are still unresolved (manual policy, or incomplete rows)
// and not yet settled by bgsync conflicts resolve. Not inside Apply.
func (a *Applier) Unresolved(ctx context.Context) (int64, error) {
	var n int64
	err := a.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(a.cfg.Schema)+
		".conflicts WHERE direction = ? AND NOT resolved", a.cfg.Direction).Scan(&n)
	if err != nil {
		return 0, &TargetError{Op: "count unresolved conflicts", Err: err}
	}
	return n, nil
}
