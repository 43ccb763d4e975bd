package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// Runs of updates are applied through a staging table: the new rows are
// COPYed into a temporary table and one UPDATE ... FROM joins them to the
// target by key. A key that comes twice in a run splits it, so within one
// staged statement every key is unique and source order holds.

// stageMinRows is the smallest run of updates that is staged.
const stageMinRows = 64

// keyChanged reports whether an update moves its row to another key.
func keyChanged(tt *targetTable, c *change.Change) bool {
	if c.Before == nil {
		return false
	}
	for _, k := range tt.key {
		i := columnIndex(c.Columns, k)
		if i < 0 || i >= len(c.Before) || i >= len(c.After) {
			return true
		}
		b := c.Before[i]
		if b.Kind == change.KindAbsent || b.Kind == change.KindUnchanged {
			continue
		}
		if !change.Equal(b, c.After[i]) {
			return true
		}
	}
	return false
}

// sameUnchanged reports whether two updates leave the same columns unsent.
func sameUnchanged(a, b *change.Change) bool {
	if len(a.After) != len(b.After) {
		return false
	}
	for i := range a.After {
		if (a.After[i].Kind == change.KindUnchanged) != (b.After[i].Kind == change.KindUnchanged) {
			return false
		}
	}
	return true
}

// planUpdates plans a run of updates of one table with the same columns,
// none of which changes its key.
func (a *Applier) planUpdates(p *plan, t *change.Txn, tt *targetTable, run []change.Change) error {
	if len(run) < stageMinRows {
		for k := range run {
			if err := a.planUpdate(p, t, tt, &run[k]); err != nil {
				return err
			}
		}
		return nil
	}
	seen := make(map[string]struct{}, len(run))
	start := 0
	var key []byte
	for k := range run {
		key = key[:0]
		for _, name := range tt.key {
			key = change.AppendValue(key, run[k].After[columnIndex(run[k].Columns, name)])
		}
		if _, dup := seen[string(key)]; dup {
			if err := a.planStaged(p, t, tt, run[start:k]); err != nil {
				return err
			}
			clear(seen)
			start = k
		}
		seen[string(key)] = struct{}{}
	}
	return a.planStaged(p, t, tt, run[start:])
}

// planStaged plans one staged UPDATE for updates with unique keys.
func (a *Applier) planStaged(p *plan, t *change.Txn, tt *targetTable, run []change.Change) error {
	if len(run) < stageMinRows {
		return a.planUpdates(p, t, tt, run) // small remainder after a split
	}
	c0 := &run[0]
	var cols []string // sent columns: keys and the SET list
	var set []string
	isKey := map[string]bool{}
	for _, k := range tt.key {
		isKey[k] = true
	}
	for i, v := range c0.After {
		if v.Kind == change.KindUnchanged {
			continue
		}
		cols = append(cols, c0.Columns[i].Name)
		if !isKey[c0.Columns[i].Name] {
			set = append(set, c0.Columns[i].Name)
		}
	}
	if len(set) == 0 {
		return nil // only keys, which do not change: nothing to write
	}
	for _, k := range tt.key {
		if !contains(cols, k) {
			return fmt.Errorf("update: key column %s has no value", k)
		}
	}
	stage := a.stageName(tt, cols)
	buf := make([]byte, 0, len(run)*32*len(cols))
	var scratch []byte
	for k := range run {
		n := 0
		for i, v := range run[k].After {
			if v.Kind == change.KindUnchanged {
				continue
			}
			if n > 0 {
				buf = append(buf, '\t')
			}
			n++
			if v.Kind == change.KindNull {
				buf = append(buf, '\\', 'N')
				continue
			}
			var err error
			if scratch, err = pgtext.Encode(scratch[:0], v); err != nil {
				return fmt.Errorf("update key %s column %s: %w", keyString(tt, &run[k]), run[k].Columns[i].Name, err)
			}
			buf = pgtext.AppendCopyText(buf, scratch)
		}
		buf = append(buf, '\n')
	}
	p.stmts = append(p.stmts, stmt{
		sql:      copySQL(change.Table{Schema: "pg_temp", Name: stage}, cols),
		copyData: buf,
		then:     stagedUpdateSQL(tt.name, stage, set, tt.key),
		stageDDL: stageDDL(stage, tt, cols),
		op:       change.OpUpdate, rows: len(run), first: c0, pos: t.Position,
	})
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stageName names the session's staging table for a table and column set.
func (a *Applier) stageName(tt *targetTable, cols []string) string {
	sig := tt.name.String() + "\x00" + strings.Join(cols, "\x00")
	name, ok := a.stages[sig]
	if !ok {
		name = "bgsync_stage_" + strconv.Itoa(len(a.stages))
		a.stages[sig] = name
	}
	return name
}

// stageDDL creates a session-local staging table with the target's types.
func stageDDL(stage string, tt *targetTable, cols []string) string {
	var b strings.Builder
	b.WriteString("CREATE TEMPORARY TABLE IF NOT EXISTS ")
	b.WriteString(quoteIdent(stage))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c))
		b.WriteByte(' ')
		b.WriteString(tt.columns[c])
	}
	b.WriteString(")")
	return b.String()
}

// stagedUpdateSQL joins the staged rows to the target, then empties the
// staging table with TRUNCATE: a DELETE would leave dead rows in a table that
// autovacuum never visits, and every later run would scan them. The join is
// pinned to a nested loop over the target's primary key, since a target
// without fresh statistics would otherwise get a hash join that scans the
// whole table for every run; the settings are restored right after. The
// UPDATE's result is the third.
func stagedUpdateSQL(t change.Table, stage string, set, key []string) string {
	var b strings.Builder
	b.WriteString("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; UPDATE ")
	b.WriteString(quoteTable(t))
	b.WriteString(" AS t SET ")
	appendPairs(&b, set, "", "s", ", ")
	b.WriteString(" FROM pg_temp.")
	b.WriteString(quoteIdent(stage))
	b.WriteString(" AS s WHERE ")
	appendPairs(&b, key, "t", "s", " AND ")
	b.WriteString("; TRUNCATE pg_temp.")
	b.WriteString(quoteIdent(stage))
	b.WriteString("; RESET enable_hashjoin; RESET enable_mergejoin")
	return b.String()
}

// stagedUpdateResult is the index of the UPDATE among stagedUpdateSQL's
// statements.
const stagedUpdateResult = 2
