package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// resolveGroup runs conflict detection over a group of transactions inside
// the open target transaction. It returns the transactions as the target
// should apply them (changes dropped, or turned into the operation the
// decision chose) and the conflicts to log.
func (a *Applier) resolveGroup(ctx context.Context, tx *sql.Tx, txns []*change.Txn) ([]*change.Txn, []conflictRecord, error) {
	states := map[change.Table]*tableState{} // by source table
	for _, t := range txns {
		for i := range t.Changes {
			c := &t.Changes[i]
			if c.Op == change.OpTruncate {
				for _, src := range truncated(c) {
					if _, err := a.state(ctx, states, src); err != nil {
						return nil, nil, fmt.Errorf("truncate at source position %s: %w", a.cfg.positionText(t.Position), err)
					}
				}
				continue
			}
			st, err := a.state(ctx, states, c.Table)
			if err != nil {
				return nil, nil, fmt.Errorf("source position %s: %w", a.cfg.positionText(t.Position), err)
			}
			if err := checkColumns(st.tt, c); err != nil {
				return nil, nil, fmt.Errorf("source position %s: %w", a.cfg.positionText(t.Position), err)
			}
			st.hint(c.Columns, c.Before)
			st.hint(c.Columns, c.After)
			k1, v1, ok1 := st.keyOf(c.Columns, c.Before)
			if ok1 {
				st.want[k1] = v1
				st.uses[k1]++
			}
			if k2, v2, ok2 := st.keyOf(c.Columns, c.After); ok2 && (!ok1 || k2 != k1) {
				st.want[k2] = v2
				st.uses[k2]++
			}
		}
	}
	seen := map[*tableState]bool{}
	for _, st := range states {
		if seen[st] {
			continue
		}
		seen[st] = true
		if err := a.fetch(ctx, tx, st); err != nil {
			return nil, nil, err
		}
	}
	var records []conflictRecord
	out := make([]*change.Txn, len(txns))
	for n, t := range txns {
		eff := *t
		eff.Changes = make([]change.Change, 0, len(t.Changes))
		for i := range t.Changes {
			c := &t.Changes[i]
			if c.Op == change.OpTruncate {
				for _, src := range truncated(c) {
					st := states[src]
					st.truncated = true
					for _, rs := range st.rows {
						rs.exists, rs.row = false, nil
					}
				}
				eff.Changes = append(eff.Changes, *c)
				continue
			}
			recs, err := a.resolveChange(states[c.Table], t, c, &eff)
			if err != nil {
				return nil, nil, err
			}
			records = append(records, recs...)
		}
		out[n] = &eff
	}
	return out, records, nil
}

// truncated lists the tables of a TRUNCATE.
func truncated(c *change.Change) []change.Table {
	if len(c.Truncate) > 0 {
		return c.Truncate
	}
	return []change.Table{c.Table}
}

// resolveChange decides one row change against the row as the group left
// it, appends what to apply to eff, and returns the conflicts to log.
func (a *Applier) resolveChange(st *tableState, t *change.Txn, c *change.Change, eff *change.Txn) ([]conflictRecord, error) {
	key, _, ok := st.keyOf(c.Columns, c.Before)
	if !ok {
		key, _, ok = st.keyOf(c.Columns, c.After)
	}
	if !ok {
		return nil, fmt.Errorf("table %s at source position %s: %s without a key value", c.Table, t.Position, c.Op)
	}
	rs := st.lookup(key)
	// again: a later change of the group reads this key, so the row as
	// this change leaves it must be kept.
	st.uses[key]--
	again := st.uses[key] > 0
	in := conflict.Input{Op: c.Op, Columns: c.Columns, Before: c.Before, After: c.After,
		From: a.cfg.From, CommitTime: t.TimeOf(c), Same: st.same(c.Columns)}
	if rs.exists {
		in.Current, in.CurrentLocal = st.aligned(rs, c.Columns), rs.local
	}
	st.orderTimes(&in, rs)
	if rs.exists {
		in.ColumnTimes = rs.columnTimes(c.Columns)
	}
	d := conflict.Resolve(st.rule, &in)
	if d.Resolution == conflict.Merged || (st.rule.Policy == conflict.ColumnMerge && d.Op == change.OpUpdate) {
		d.Row = st.withKey(c, d.Row) // a merged row leaves its key unchanged, but the update needs it
	}
	var records []conflictRecord
	if d.Kind != conflict.None {
		records = append(records, a.record(st.tt, c, t, &in, st.rule, d))
	}
	switch d.Op {
	case change.OpInsert:
		eff.Changes = append(eff.Changes, change.Change{Op: change.OpInsert, Table: c.Table, Columns: c.Columns, After: d.Row, Seq: c.Seq})
		if again {
			st.write(rs, c.Columns, d.Row, true)
		}
	case change.OpUpdate:
		u := change.Change{Op: change.OpUpdate, Table: c.Table, Columns: c.Columns, After: d.Row, Seq: c.Seq}
		newKey, _, ok := st.keyOf(c.Columns, d.Row)
		moved := ok && newKey != key
		if d.Kind == conflict.None || moved {
			u.Before = c.Before // the row is found by its old key
		}
		// A conflict's row is whole, except under column-merge, which
		// writes some columns and keeps the rest.
		whole := d.Kind != conflict.None && st.rule.Policy != conflict.ColumnMerge
		if !moved {
			eff.Changes = append(eff.Changes, u)
			if again {
				st.write(rs, c.Columns, d.Row, whole)
			}
			break
		}
		dst := st.lookup(newKey)
		if !dst.exists {
			eff.Changes = append(eff.Changes, u)
			rs.exists, rs.row = false, nil
			st.write(dst, c.Columns, d.Row, whole)
			break
		}
		moves, rec := a.moveOnto(st, c, t, &u, rs, dst)
		eff.Changes = append(eff.Changes, moves...)
		records = append(records, rec)
	case change.OpDelete:
		eff.Changes = append(eff.Changes, *c)
		rs.exists, rs.row = false, nil
	}
	return records, nil
}

// state returns the table state of a source table, loading the target
// table on first use.
func (a *Applier) state(ctx context.Context, states map[change.Table]*tableState, src change.Table) (*tableState, error) {
	if st, ok := states[src]; ok {
		return st, nil
	}
	tt, err := a.target(ctx, src)
	if err != nil {
		return nil, err
	}
	for s, st := range states {
		if st.tt == tt {
			states[src] = states[s]
			return st, nil
		}
	}
	st := newTableState(tt, a.cfg.rule(src))
	states[src] = st
	return st, nil
}

// moveOnto handles an update that moves a row to a key the target already
// has (the target inserted that key meanwhile): the incoming row meets the
// target's row as an insert would (insert_exists, decided by the table's
// rule). Unless that is left unresolved, the old key goes, as on the
// source, and the new key holds the winner. It returns the changes to
// apply and the conflict to log.
func (a *Applier) moveOnto(st *tableState, c *change.Change, t *change.Txn, u *change.Change, from, dst *rowState) ([]change.Change, conflictRecord) {
	in := conflict.Input{Op: change.OpInsert, Columns: c.Columns, Before: c.Before, After: u.After,
		From: a.cfg.From, CommitTime: t.TimeOf(c),
		Current: st.aligned(dst, c.Columns), CurrentLocal: dst.local, Same: st.same(c.Columns)}
	st.orderTimes(&in, dst)
	in.ColumnTimes = dst.columnTimes(c.Columns)
	d := conflict.Resolve(st.rule, &in)
	d.Reason = "the update moved the row onto a key the target already has; " + d.Reason
	at := *c
	at.Before = nil // logged under the key it moved to
	rec := a.record(st.tt, &at, t, &in, st.rule, d)
	if d.Resolution == conflict.Unresolved {
		return nil, rec
	}
	out := []change.Change{{Op: change.OpDelete, Table: c.Table, Columns: c.Columns, Before: c.Before, Seq: c.Seq}}
	from.exists, from.row = false, nil
	if d.Op == change.OpUpdate {
		out = append(out, change.Change{Op: change.OpUpdate, Table: c.Table, Columns: c.Columns, After: d.Row, Seq: c.Seq})
		st.write(dst, c.Columns, d.Row, true)
	}
	return out, rec
}

// withKey returns row with the change's key values where row leaves them
// unchanged.
func (st *tableState) withKey(c *change.Change, row change.Row) change.Row {
	out := append(change.Row(nil), row...)
	for _, k := range st.tt.Key {
		if i := columnIndex(c.Columns, k); i >= 0 && i < len(out) && out[i].Kind == change.KindUnchanged && i < len(c.After) {
			out[i] = c.After[i]
		}
	}
	return out
}

// same returns how the values of cols (a change's columns) are compared
// with the target's (conflict.Input.Same): JSON columns by the data they
// hold (SameJSON), every other column by change.Equal. Nil when the
// table has no JSON column.
func (st *tableState) same(cols []change.Column) func(int, change.Value, change.Value) bool {
	if !st.json {
		return nil
	}
	isJSON := make([]bool, len(cols))
	for i, c := range cols {
		if j, ok := st.tt.index[c.Name]; ok {
			isJSON[i] = st.tt.Columns[j].JSON
		}
	}
	return func(i int, a, b change.Value) bool {
		if i < len(isJSON) && isJSON[i] {
			return SameJSON(a, b)
		}
		return change.Equal(a, b)
	}
}
