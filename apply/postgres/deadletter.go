package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// RecordDeadLetters writes dead letters to bgsync's dead_letters table on
// the target in one transaction, before the transactions they came in are
// applied, so a checkpoint never passes a change that is neither applied
// nor recorded. A change recorded before (a replay) is left as it is.
func (a *Applier) RecordDeadLetters(ctx context.Context, dls []DeadLetter) error {
	if len(dls) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	sql := `INSERT INTO ` + quoteIdent(a.cfg.Schema) + `.dead_letters
	(direction, source_table, target_table, key, op, column_name, expression, error,
	 source_before, source_after, source_position, change_seq, commit_time)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (direction, source_position, change_seq) DO NOTHING`
	for i := range dls {
		d := &dls[i]
		c := d.Change
		b.Queue(sql, a.cfg.Direction, c.Table.String(), d.Target.String(), string(d.Key()), c.Op.String(),
			d.Column, d.Expr, d.Err, jsonParam(imageJSON(c.Columns, c.Before)), jsonParam(imageJSON(c.Columns, c.After)),
			a.cfg.positionText(d.Txn.Position), strconv.FormatUint(uint64(c.Seq), 10), timeParam(d.Txn.CommitTime))
	}
	tx, err := a.conn.Begin(ctx)
	if err != nil {
		return &TargetError{Op: "record dead letters", Err: err}
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit it is a no-op
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return &TargetError{Op: "record dead letters", Err: err}
	}
	if err := tx.Commit(ctx); err != nil {
		return &TargetError{Op: "record dead letters", Err: err}
	}
	return nil
}

// jsonParam passes nil (SQL NULL) as such and JSON text as a string.
func jsonParam(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// PendingDeadLetters counts this direction's dead letters not yet marked
// handled (handled_at set).
func (a *Applier) PendingDeadLetters(ctx context.Context) (int64, error) {
	var n int64
	err := a.conn.QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(a.cfg.Schema)+
		`.dead_letters WHERE direction = $1 AND handled_at IS NULL`, a.cfg.Direction).Scan(&n)
	if err != nil {
		return 0, &TargetError{Op: "count dead letters", Err: err}
	}
	return n, nil
}
