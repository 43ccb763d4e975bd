package postgres

import (
	"context"
	"fmt"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// resolveGroup runs conflict detection over a group of transactions inside
// the open target transaction. It returns the transactions as the target
// should apply them (changes dropped, or turned into the operation the
// decision chose) and the conflicts to log.
func (a *Applier) resolveGroup(ctx context.Context, txns []*change.Txn) ([]*change.Txn, []conflictRecord, error) {
	states := map[change.Table]*tableState{} // by source table
	for _, t := range txns {
		for i := range t.Changes {
			c := &t.Changes[i]
			if c.Op == change.OpTruncate {
				for _, src := range c.Truncate {
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
		if err := a.fetch(ctx, st); err != nil {
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
				for _, src := range c.Truncate {
					st := states[src]
					st.truncated = true
					for _, rs := range st.rows {
						rs.exists = false
					}
				}
				eff.Changes = append(eff.Changes, *c)
				continue
			}
			st := states[c.Table]
			key, _, ok := st.keyOf(c.Columns, c.Before)
			if !ok {
				key, _, ok = st.keyOf(c.Columns, c.After)
			}
			if !ok {
				return nil, nil, fmt.Errorf("table %s at source position %s: %s without a key value", c.Table, a.cfg.positionText(t.Position), c.Op)
			}
			rs := st.lookup(key)
			// again: a later change of the group reads this key, so the
			// row as this change leaves it must be kept.
			st.uses[key]--
			again := st.uses[key] > 0
			if st.truncated && !rs.exists {
				rs.row = nil
			}
			in := conflict.Input{Op: c.Op, Columns: c.Columns, Before: c.Before, After: c.After,
				From: a.cfg.From, CommitTime: t.TimeOf(c), Deleted: rs.deleted}
			if rs.exists {
				in.Current, in.CurrentTime, in.CurrentLocal = st.aligned(rs, c.Columns), rs.ts, rs.local
				in.ColumnTimes = rs.columnTimes(c.Columns)
			}
			rule := a.ruleFor(st, t)
			d := conflict.Resolve(rule, &in)
			if d.Resolution == conflict.Merged || (rule.Policy == conflict.ColumnMerge && d.Op == change.OpUpdate) {
				d.Row = st.withKey(c, d.Row) // a merged row leaves its key unchanged, but the update needs it
			}
			if d.Kind != conflict.None && a.logged(t, d.Resolution.String()) {
				records = append(records, a.record(st.tt, c, t, &in, rule, d))
			}
			switch d.Op {
			case change.OpInsert:
				// An update whose row is missing becomes an insert under its
				// new key; when the update moved the key and the target has
				// the new one, that is an insert onto an existing row (after
				// an initial copy's restart the copy can hold it already).
				if nk, _, ok := st.keyOf(c.Columns, d.Row); ok && nk != key {
					if dst := st.lookup(nk); dst.exists {
						u := change.Change{Op: change.OpUpdate, Table: c.Table, Columns: c.Columns, After: d.Row, Seq: c.Seq}
						moves, rec := a.moveOnto(st, rule, c, t, &u, rs, dst)
						eff.Changes = append(eff.Changes, moves...)
						if a.logged(t, rec.label.Resolution) {
							records = append(records, rec)
						}
						break
					}
				}
				eff.Changes = append(eff.Changes, change.Change{Op: change.OpInsert, Table: c.Table, Columns: c.Columns, After: d.Row, Seq: c.Seq})
				if again {
					st.write(rs, c.Columns, d.Row, t.TimeOf(c), true)
				}
			case change.OpUpdate:
				u := change.Change{Op: change.OpUpdate, Table: c.Table, Columns: c.Columns, After: d.Row, Seq: c.Seq}
				newKey, _, ok := st.keyOf(c.Columns, d.Row)
				moved := ok && newKey != key
				if d.Kind == conflict.None || moved {
					u.Before = c.Before // the row is found by its old key
				}
				// A conflict's row is whole, except under column-merge,
				// which writes some columns and keeps the rest.
				whole := d.Kind != conflict.None && rule.Policy != conflict.ColumnMerge
				if !moved {
					eff.Changes = append(eff.Changes, u)
					if again {
						st.write(rs, c.Columns, d.Row, t.TimeOf(c), whole)
					}
					break
				}
				dst := st.lookup(newKey)
				if !dst.exists {
					eff.Changes = append(eff.Changes, u)
					rs.exists, rs.row = false, nil
					st.write(dst, c.Columns, d.Row, t.TimeOf(c), whole)
					break
				}
				moves, rec := a.moveOnto(st, rule, c, t, &u, rs, dst)
				eff.Changes = append(eff.Changes, moves...)
				if a.logged(t, rec.label.Resolution) {
					records = append(records, rec)
				}
			case change.OpDelete:
				eff.Changes = append(eff.Changes, *c)
				rs.exists, rs.row = false, nil
			}
		}
		out[n] = &eff
	}
	return out, records, nil
}

// ruleFor is the conflict rule for t's changes to st's table. A
// transaction at or below the catch-up position of an initial copy may
// already be in the rows some chunks copied: it is applied as the source
// has it (its side wins, as if the copy had been taken later), and what
// it meets is not a conflict, so nothing is logged.
func (a *Applier) ruleFor(st *tableState, t *change.Txn) conflict.Rule {
	if t.Position > a.catchUp {
		return st.rule
	}
	if a.cfg.From == conflict.Blue {
		return conflict.Rule{Policy: conflict.BlueWins}
	}
	return conflict.Rule{Policy: conflict.GreenWins}
}

// logged reports whether a conflict of t, ended with resolution, goes to
// the conflicts table: every one, except in an initial copy's catch-up
// (ruleFor), where only a change left unresolved is.
func (a *Applier) logged(t *change.Txn, resolution string) bool {
	return t.Position > a.catchUp || resolution == conflict.Unresolved.String()
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
	rule, ok := a.cfg.Rules[src.String()]
	if !ok {
		rule = a.cfg.DefaultRule
	}
	st := newTableState(tt, rule)
	states[src] = st
	return st, nil
}

// moveOnto handles an update that moves a row to a key the target already
// has (the target inserted that key meanwhile): the incoming row meets the
// target's row as an insert would (insert_exists, decided by the table's
// rule). Unless that is left unresolved, the old key goes, as on the
// source, and the new key holds the winner. It returns the changes to
// apply and the conflict to log.
func (a *Applier) moveOnto(st *tableState, rule conflict.Rule, c *change.Change, t *change.Txn, u *change.Change, from, dst *rowState) ([]change.Change, conflictRecord) {
	in := conflict.Input{Op: change.OpInsert, Columns: c.Columns, Before: c.Before, After: u.After,
		From: a.cfg.From, CommitTime: t.TimeOf(c), Deleted: dst.deleted,
		Current: st.aligned(dst, c.Columns), CurrentTime: dst.ts, CurrentLocal: dst.local}
	d := conflict.Resolve(rule, &in)
	d.Reason = "the update moved the row onto a key the target already has; " + d.Reason
	at := *c
	at.Before = nil // logged under the key it moved to
	rec := a.record(st.tt, &at, t, &in, rule, d)
	if d.Resolution == conflict.Unresolved {
		return nil, rec
	}
	out := []change.Change{{Op: change.OpDelete, Table: c.Table, Columns: c.Columns, Before: c.Before, Seq: c.Seq}}
	from.exists, from.row = false, nil
	if d.Op == change.OpUpdate {
		out = append(out, change.Change{Op: change.OpUpdate, Table: c.Table, Columns: c.Columns, After: d.Row, Seq: c.Seq})
		st.write(dst, c.Columns, d.Row, t.TimeOf(c), true)
	}
	return out, rec
}

// withKey returns row with the change's key values where row leaves them
// unchanged.
func (st *tableState) withKey(c *change.Change, row change.Row) change.Row {
	out := append(change.Row(nil), row...)
	for _, k := range st.tt.key {
		if i := columnIndex(c.Columns, k); i >= 0 && i < len(out) && out[i].Kind == change.KindUnchanged && i < len(c.After) {
			out[i] = c.After[i]
		}
	}
	return out
}
