package mysql

import (
	"context"
	"strings"

	"github.com/bgsync/bgsync/apply"
)

const deadLetterColumns = "(direction, source_table, target_table, `key`, op, column_name, expression, error, " +
	"source_before, source_after, source_position, change_seq, commit_time)"

const deadLetterWidth = 13

// RecordDeadLetters writes dead letters to bgsync's dead_letters table on
// the target in one transaction, before the transactions they came in are
// applied, so a checkpoint never passes a change that is neither applied
// nor recorded. A change recorded before (a replay: same direction, source
// position and change seq) is left as it is. That is ON DUPLICATE KEY
// UPDATE id = id rather than INSERT IGNORE, which would also turn a value
// the table cannot hold into a warning and a truncated row.
func (a *Applier) RecordDeadLetters(ctx context.Context, dls []DeadLetter) error {
	if len(dls) == 0 {
		return nil
	}
	tx, err := a.conn.BeginTx(ctx, nil)
	if err != nil {
		return &TargetError{Op: "record dead letters", Err: err}
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if a.marker {
		if err := a.writeMarker(ctx, tx, a.checkpoint); err != nil {
			return err
		}
	}
	for len(dls) > 0 {
		n := min(len(dls), maxRowsPerStatement)
		var b strings.Builder
		b.WriteString("INSERT INTO " + quoteIdent(a.cfg.Schema) + ".dead_letters " + deadLetterColumns + " VALUES ")
		tuple := "(?" + strings.Repeat(", ?", deadLetterWidth-1) + ")"
		args := make([]any, 0, n*deadLetterWidth)
		for i := range dls[:n] {
			d := &dls[i]
			c := d.Change
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
			args = append(args, a.cfg.Direction, c.Table.String(), d.Target.String(), string(d.Key()), c.Op.String(),
				d.Column, d.Expr, d.Err, jsonArg(apply.ImageJSON(c.Columns, c.Before)), jsonArg(apply.ImageJSON(c.Columns, c.After)),
				a.cfg.positionText(d.Txn.Position), c.Seq, timeArg(d.Txn.CommitTime))
		}
		b.WriteString(" ON DUPLICATE KEY UPDATE id = id")
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return &TargetError{Op: "record dead letters", Err: err}
		}
		dls = dls[n:]
	}
	if err := tx.Commit(); err != nil {
		return &TargetError{Op: "record dead letters", Err: err}
	}
	return nil
}

// PendingDeadLetters counts this direction's dead letters not yet marked
// handled (handled_at set).
func (a *Applier) PendingDeadLetters(ctx context.Context) (int64, error) {
	var n int64
	err := a.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(a.cfg.Schema)+
		".dead_letters WHERE direction = ? AND handled_at IS NULL", a.cfg.Direction).Scan(&n)
	if err != nil {
		return 0, &TargetError{Op: "count dead letters", Err: err}
	}
	return n, nil
}
