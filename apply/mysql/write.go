package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/change"
)

// Statement limits: a multi-row INSERT or DELETE carries at most this many
// rows, and about this many bytes of values (max_allowed_packet is 16 MiB
// by default on MariaDB 10.11, 64 MiB on MySQL 8).
const (
	maxRowsPerStatement  = 500
	maxBytesPerStatement = 4 << 20
)

// writer runs the statements of one group inside the open transaction.
type writer struct {
	a   *Applier
	tx  *sql.Tx
	res *Result
}

// txn writes one source transaction, as resolveGroup left it: runs of
// inserts into one table with the same columns become multi-row INSERTs,
// runs of deletes one DELETE ... WHERE key IN (...), updates one UPDATE
// per row, a TRUNCATE a DELETE FROM each table.
func (w *writer) txn(ctx context.Context, t *change.Txn) error {
	cs := t.Changes
	for i := 0; i < len(cs); {
		c := &cs[i]
		if c.Op == change.OpTruncate {
			if err := w.truncate(ctx, t, c); err != nil {
				return err
			}
			i++
			continue
		}
		tt, err := w.a.target(ctx, c.Table)
		if err != nil {
			return fmt.Errorf("source position %s: %w", t.Position, err)
		}
		j := i + 1
		if c.Op != change.OpUpdate {
			for j < len(cs) && cs[j].Op == c.Op && cs[j].Table == c.Table && sameColumns(cs[j].Columns, c.Columns) {
				j++
			}
		}
		switch c.Op {
		case change.OpInsert:
			err = w.inserts(ctx, t, tt, cs[i:j])
		case change.OpDelete:
			err = w.deletes(ctx, t, tt, cs[i:j])
		case change.OpUpdate:
			err = w.update(ctx, t, tt, c)
		default:
			err = fmt.Errorf("table %s at source position %s: unknown operation %d", c.Table, t.Position, c.Op)
		}
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

func sameColumns(a, b []change.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// inserts writes a run of inserts as multi-row INSERTs.
func (w *writer) inserts(ctx context.Context, t *change.Txn, tt *TargetTable, run []change.Change) error {
	cols := run[0].Columns
	types := make([]ColumnType, len(cols))
	for i, c := range cols {
		types[i], _ = tt.Column(c.Name)
	}
	for len(run) > 0 {
		var args []any
		size, n := 0, 0
		for n < len(run) && n < maxRowsPerStatement && size < maxBytesPerStatement {
			c := &run[n]
			for ci, v := range c.After {
				if !known(v) {
					return w.a.changeError(tt, t, c, cols[ci].Name, fmt.Errorf("insert: column %s has no value (%s)", cols[ci].Name, v.Kind))
				}
				arg, err := Encode(types[ci], v)
				if err != nil {
					return w.a.changeError(tt, t, c, cols[ci].Name, err)
				}
				args = append(args, arg)
				size += argSize(arg)
			}
			n++
		}
		r, err := w.tx.ExecContext(ctx, insertSQL(tt.Name, cols, n), args...)
		if err != nil {
			return w.a.stmtError(tt, t, run[:n], err)
		}
		w.res.Inserted += affected(r)
		run = run[n:]
	}
	return nil
}

// deletes removes a run of rows by key.
func (w *writer) deletes(ctx context.Context, t *change.Txn, tt *TargetTable, run []change.Change) error {
	for len(run) > 0 {
		n := min(len(run), maxRowsPerStatement)
		args := make([]any, 0, n*len(tt.Key))
		for k := range run[:n] {
			c := &run[k]
			if c.Before == nil {
				return w.a.changeError(tt, t, c, "", fmt.Errorf("delete without an old row image"))
			}
			var err error
			if args, err = appendKey(args, tt, c, c.Before); err != nil {
				return w.a.changeError(tt, t, c, "", err)
			}
		}
		var b strings.Builder
		b.WriteString("DELETE FROM " + quoteTable(tt.Name) + " WHERE ")
		appendKeyIn(&b, tt.Key, n)
		r, err := w.tx.ExecContext(ctx, b.String(), args...)
		if err != nil {
			return w.a.stmtError(tt, t, run[:n], err)
		}
		got := affected(r)
		w.res.Deleted += got
		w.missing(tt, t, change.OpDelete, n-got)
		run = run[n:]
	}
	return nil
}

// update writes one row's known values by its key (the old key when the
// before image has it). Unchanged and absent columns are not written.
func (w *writer) update(ctx context.Context, t *change.Txn, tt *TargetTable, c *change.Change) error {
	var b strings.Builder
	var args []any
	b.WriteString("UPDATE " + quoteTable(tt.Name) + " SET ")
	set := 0
	for i, v := range c.After {
		if !known(v) {
			continue // unchanged TOAST: keep the target's value
		}
		col, _ := tt.Column(c.Columns[i].Name)
		arg, err := Encode(col, v)
		if err != nil {
			return w.a.changeError(tt, t, c, col.Name, err)
		}
		if set > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(col.Name) + " = ?")
		args = append(args, arg)
		set++
	}
	if set == 0 {
		return nil // nothing the target does not already have
	}
	img := c.After
	if c.Before != nil && hasKey(tt, c, c.Before) {
		img = c.Before
	}
	b.WriteString(" WHERE ")
	for n, k := range tt.Key {
		if n > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(quoteIdent(k) + " = ?")
	}
	var err error
	if args, err = appendKey(args, tt, c, img); err != nil {
		return w.a.changeError(tt, t, c, "", err)
	}
	r, err := w.tx.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return w.a.stmtError(tt, t, []change.Change{*c}, err)
	}
	got := affected(r) // matched rows: the DSN sets clientFoundRows
	w.res.Updated += got
	w.missing(tt, t, change.OpUpdate, 1-got)
	return nil
}

// truncate empties each table of a TRUNCATE with DELETE FROM: MySQL's
// TRUNCATE TABLE commits the open transaction implicitly, which would
// split the group from its checkpoint.
func (w *writer) truncate(ctx context.Context, t *change.Txn, c *change.Change) error {
	for _, src := range truncated(c) {
		tt, err := w.a.target(ctx, src)
		if err != nil {
			return fmt.Errorf("truncate at source position %s: %w", t.Position, err)
		}
		if _, err := w.tx.ExecContext(ctx, "DELETE FROM "+quoteTable(tt.Name)); err != nil {
			return w.a.stmtError(tt, t, []change.Change{*c}, err)
		}
		w.res.Truncated++
	}
	return nil
}

func (w *writer) missing(tt *TargetTable, t *change.Txn, op change.Op, n int) {
	if n <= 0 {
		return
	}
	w.res.Missing += n
	w.a.cfg.Logger.Warn("row not found on target", "direction", w.a.cfg.Direction, "op", op.String(),
		"table", tt.Name.String(), "rows", n, "position", w.a.cfg.positionText(t.Position))
}

func affected(r sql.Result) int {
	n, err := r.RowsAffected()
	if err != nil {
		return 0
	}
	return int(n)
}

// argSize estimates the bytes an argument takes in the statement.
func argSize(arg any) int {
	switch v := arg.(type) {
	case string:
		return 2*len(v) + 3
	case []byte:
		return 2*len(v) + 10
	}
	return 24
}

func hasKey(tt *TargetTable, c *change.Change, img change.Row) bool {
	for _, k := range tt.Key {
		i := columnIndex(c.Columns, k)
		if i < 0 || i >= len(img) || !known(img[i]) {
			return false
		}
	}
	return true
}

// appendKey appends the key values of img as driver arguments.
func appendKey(dst []any, tt *TargetTable, c *change.Change, img change.Row) ([]any, error) {
	for _, k := range tt.Key {
		i := columnIndex(c.Columns, k)
		if i < 0 || i >= len(img) || !known(img[i]) || img[i].Kind == change.KindNull {
			return nil, fmt.Errorf("key column %s has no value in the row image", k)
		}
		col, _ := tt.Column(k)
		arg, err := Encode(col, img[i])
		if err != nil {
			return nil, err
		}
		dst = append(dst, arg)
	}
	return dst, nil
}

// insertSQL builds INSERT INTO t (cols) VALUES (?, ...), ... for rows rows.
func insertSQL(t change.Table, cols []change.Column, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quoteTable(t) + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
	}
	b.WriteString(") VALUES ")
	tuple := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}
