package postgres

import (
	"context"
	"github.com/bgsync/bgsync/apply"
	"strconv"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// conflictRecord is one row of bgsync's conflicts table.
type conflictRecord struct {
	params [][]byte
	label  ConflictLabel
	table  string
	key    string
	reason string
}

const conflictColumns = `(direction, table_name, key, kind, policy, resolution, reason, incoming_op,
	incoming_before, incoming_after, target_row, incoming_commit_time, target_commit_time,
	source_position, source_xid, resolved)`

func insertConflictSQL(schema string) string {
	return `INSERT INTO ` + quoteIdent(schema) + `.conflicts ` + conflictColumns +
		` VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`
}

func (a *Applier) record(tt *targetTable, c *change.Change, t *change.Txn, in *conflict.Input, rule conflict.Rule, d conflict.Decision) conflictRecord {
	keyImg := c.Before
	if keyImg == nil || !hasKey(tt, c, keyImg) {
		keyImg = c.After
	}
	keyCols := make([]change.Column, 0, len(tt.key))
	keyVals := make(change.Row, 0, len(tt.key))
	for _, k := range tt.key {
		if i := columnIndex(c.Columns, k); i >= 0 && i < len(keyImg) {
			keyCols = append(keyCols, c.Columns[i])
			keyVals = append(keyVals, keyImg[i])
		}
	}
	key := imageJSON(keyCols, keyVals)
	policy := rule.Policy.String()
	if rule.TimestampColumn != "" {
		policy += " (" + rule.TimestampColumn + ")"
	}
	r := conflictRecord{
		label:  ConflictLabel{Kind: d.Kind.String(), Resolution: d.Resolution.String()},
		table:  tt.name.String(),
		key:    string(key),
		reason: d.Reason,
	}
	r.params = [][]byte{
		[]byte(a.cfg.Direction), []byte(r.table), key,
		[]byte(r.label.Kind), []byte(policy), []byte(r.label.Resolution), []byte(d.Reason), []byte(c.Op.String()),
		imageJSON(c.Columns, c.Before), imageJSON(c.Columns, c.After), imageJSON(c.Columns, in.Current),
		timeParam(in.CommitTime), timeParam(targetTime(in)),
		[]byte(a.cfg.positionText(t.Position)), []byte(strconv.FormatUint(t.ID, 10)),
		[]byte(strconv.FormatBool(d.Resolution != conflict.Unresolved)),
	}
	return r
}

func targetTime(in *conflict.Input) time.Time {
	if in.Current != nil {
		return in.CurrentTime
	}
	return in.Deleted
}

func timeParam(t time.Time) []byte {
	if t.IsZero() {
		return nil
	}
	return []byte(t.UTC().Format(time.RFC3339Nano))
}

// imageJSON is apply.ImageJSON.
func imageJSON(cols []change.Column, img change.Row) []byte { return apply.ImageJSON(cols, img) }

// Unresolved counts the conflicts of this Applier's direction on the
// target that are still unresolved (manual policy, or incomplete rows)
// and not yet settled by bgsync conflicts resolve. Not inside Apply.
func (a *Applier) Unresolved(ctx context.Context) (int64, error) {
	var n int64
	err := a.conn.QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(a.cfg.Schema)+
		`.conflicts WHERE direction = $1 AND NOT resolved`, a.cfg.Direction).Scan(&n)
	if err != nil {
		return 0, &TargetError{Op: "count unresolved conflicts", Err: err}
	}
	return n, nil
}
