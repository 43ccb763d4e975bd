package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

// stmt is one statement of a plan.
type stmt struct {
	sql    string
	params [][]byte
	// copyData, when set, makes the statement a COPY ... FROM STDIN (sql)
	// fed with these text-format rows.
	copyData []byte
	// then runs right after the COPY; its row count is the statement's (a
	// staged UPDATE). stageDDL creates the staging table it reads.
	then, stageDDL string
	op             change.Op
	rows           int            // rows it must touch (updates, deletes)
	first          *change.Change // for error messages
	pos            change.Position
}

// plan is the statements that apply a group of source transactions.
type plan struct {
	stmts []stmt
	arena arena
}

// arena holds the text of parameters; slices handed out stay valid.
type arena struct{ buf []byte }

func (a *arena) encode(v change.Value) ([]byte, error) {
	if v.Kind == change.KindNull {
		return nil, nil
	}
	if cap(a.buf)-len(a.buf) < 256 {
		a.buf = make([]byte, 0, 256<<10)
	}
	start := len(a.buf)
	out, err := pgtext.Encode(a.buf, v)
	if err != nil {
		return nil, err
	}
	a.buf = out
	return out[start:len(out):len(out)], nil
}

func (a *Applier) target(ctx context.Context, src change.Table) (*targetTable, error) {
	if tt, ok := a.tables[src]; ok {
		return tt, nil
	}
	dst := src
	if name, ok := a.cfg.Tables[src.String()]; ok {
		s, n, found := strings.Cut(name, ".")
		if !found {
			s, n = "public", name
		}
		dst = change.Table{Schema: s, Name: n}
	}
	tt, err := loadTable(ctx, a.conn, dst)
	if err != nil {
		return nil, err
	}
	a.tables[src] = tt
	return tt, nil
}

// columnIndex finds name in cols, or -1.
func columnIndex(cols []change.Column, name string) int {
	for i := range cols {
		if cols[i].Name == name {
			return i
		}
	}
	return -1
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

// planTxn appends the statements of one source transaction.
func (a *Applier) planTxn(ctx context.Context, p *plan, t *change.Txn) error {
	cs := t.Changes
	for i := 0; i < len(cs); {
		c := &cs[i]
		if c.Op == change.OpTruncate {
			if err := a.planTruncate(ctx, p, t, c); err != nil {
				return err
			}
			i++
			continue
		}
		tt, err := a.target(ctx, c.Table)
		if err != nil {
			return fmt.Errorf("source position %s: %w", a.cfg.positionText(t.Position), err)
		}
		if err := checkColumns(tt, c); err != nil {
			return fmt.Errorf("source position %s: %w", a.cfg.positionText(t.Position), err)
		}
		// A run: consecutive changes of the same op, table and columns.
		j := i + 1
		if c.Op != change.OpUpdate || !keyChanged(tt, c) {
			for j < len(cs) && cs[j].Op == c.Op && cs[j].Table == c.Table && sameColumns(cs[j].Columns, c.Columns) &&
				(c.Op != change.OpUpdate || (sameUnchanged(&cs[j], c) && !keyChanged(tt, &cs[j]))) {
				j++
			}
		}
		switch c.Op {
		case change.OpInsert:
			err = a.planInserts(p, t, tt, cs[i:j])
		case change.OpDelete:
			err = a.planDeletes(p, t, tt, cs[i:j])
		case change.OpUpdate:
			err = a.planUpdates(p, t, tt, cs[i:j])
		default:
			err = fmt.Errorf("unknown operation %d", c.Op)
		}
		if err != nil {
			return fmt.Errorf("table %s at source position %s: %w", c.Table, a.cfg.positionText(t.Position), err)
		}
		i = j
	}
	return nil
}

// checkColumns makes sure the target has every column the change carries
// and that the change carries the target's key.
func checkColumns(tt *targetTable, c *change.Change) error {
	for _, col := range c.Columns {
		if _, ok := tt.columns[col.Name]; !ok {
			return fmt.Errorf("column %s of source table %s does not exist in target table %s", col.Name, c.Table, tt.name)
		}
	}
	for _, k := range tt.key {
		if columnIndex(c.Columns, k) < 0 {
			return fmt.Errorf("target table %s key column %s is not in the source row of %s", tt.name, k, c.Table)
		}
	}
	return nil
}

// copyMinRows is the smallest run of inserts sent with COPY rather than a
// multi-row INSERT.
const copyMinRows = 64

func (a *Applier) planInserts(p *plan, t *change.Txn, tt *targetTable, run []change.Change) error {
	cols := make([]string, len(run[0].Columns))
	for i, c := range run[0].Columns {
		cols[i] = c.Name
	}
	if len(run) >= copyMinRows {
		return p.planCopy(t, tt, cols, run)
	}
	maxRows := 65535 / len(cols)
	k := 0
	for _, n := range chunkSizes(len(run), maxRows) {
		s := stmt{sql: insertSQL(tt.name, cols, n), op: change.OpInsert, rows: n, first: &run[k], pos: t.Position,
			params: make([][]byte, 0, n*len(cols))}
		for r := 0; r < n; r++ {
			for ci, v := range run[k].After {
				if v.Kind == change.KindUnchanged || v.Kind == change.KindAbsent {
					return fmt.Errorf("insert key %s: column %s has no value (%s)", keyString(tt, &run[k]), cols[ci], v.Kind)
				}
				b, err := p.arena.encode(v)
				if err != nil {
					return fmt.Errorf("insert key %s column %s: %w", keyString(tt, &run[k]), cols[ci], err)
				}
				s.params = append(s.params, b)
			}
			k++
		}
		p.stmts = append(p.stmts, s)
	}
	return nil
}

func (a *Applier) planDeletes(p *plan, t *change.Txn, tt *targetTable, run []change.Change) error {
	maxRows := 65535 / len(tt.key)
	k := 0
	for _, n := range chunkSizes(len(run), maxRows) {
		s := stmt{sql: deleteSQL(tt.name, tt.key, n), op: change.OpDelete, rows: n, first: &run[k], pos: t.Position,
			params: make([][]byte, 0, n*len(tt.key))}
		for r := 0; r < n; r++ {
			c := &run[k]
			if c.Before == nil {
				return fmt.Errorf("delete without an old row image")
			}
			var err error
			if s.params, err = p.appendKey(s.params, tt, c, c.Before); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			k++
		}
		p.stmts = append(p.stmts, s)
	}
	return nil
}

func (a *Applier) planUpdate(p *plan, t *change.Txn, tt *targetTable, c *change.Change) error {
	var set []string
	var params [][]byte
	for i, v := range c.After {
		if v.Kind == change.KindUnchanged {
			continue // unchanged TOAST: keep the target's value
		}
		b, err := p.arena.encode(v)
		if err != nil {
			return fmt.Errorf("update key %s column %s: %w", keyString(tt, c), c.Columns[i].Name, err)
		}
		set = append(set, c.Columns[i].Name)
		params = append(params, b)
	}
	img := c.After
	if c.Before != nil && hasKey(tt, c, c.Before) {
		img = c.Before
	}
	var err error
	if params, err = p.appendKey(params, tt, c, img); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if len(set) == 0 {
		return nil // nothing the target does not already have
	}
	p.stmts = append(p.stmts, stmt{sql: updateSQL(tt.name, set, tt.key), params: params, op: change.OpUpdate,
		rows: 1, first: c, pos: t.Position})
	return nil
}

func hasKey(tt *targetTable, c *change.Change, img change.Row) bool {
	for _, k := range tt.key {
		i := columnIndex(c.Columns, k)
		if i < 0 || i >= len(img) || img[i].Kind == change.KindAbsent || img[i].Kind == change.KindUnchanged {
			return false
		}
	}
	return true
}

func (p *plan) appendKey(dst [][]byte, tt *targetTable, c *change.Change, img change.Row) ([][]byte, error) {
	for _, k := range tt.key {
		i := columnIndex(c.Columns, k)
		if i >= len(img) || img[i].Kind == change.KindAbsent || img[i].Kind == change.KindUnchanged || img[i].Kind == change.KindNull {
			return nil, fmt.Errorf("key column %s has no value in the row image", k)
		}
		b, err := p.arena.encode(img[i])
		if err != nil {
			return nil, fmt.Errorf("key column %s: %w", k, err)
		}
		dst = append(dst, b)
	}
	return dst, nil
}

func (a *Applier) planTruncate(ctx context.Context, p *plan, t *change.Txn, c *change.Change) error {
	var names []change.Table
	for _, src := range c.Truncate {
		tt, err := a.target(ctx, src)
		if err != nil {
			return fmt.Errorf("truncate at source position %s: %w", a.cfg.positionText(t.Position), err)
		}
		names = append(names, tt.name)
	}
	p.stmts = append(p.stmts, stmt{sql: truncateSQL(names, c.RestartIdentity, c.Cascade), op: change.OpTruncate, first: c, pos: t.Position})
	return nil
}

// keyString renders a change's key for messages, e.g. (id=42).
func keyString(tt *targetTable, c *change.Change) string {
	img := c.After
	if c.Before != nil {
		img = c.Before
	}
	var b strings.Builder
	b.WriteByte('(')
	for n, k := range tt.key {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		if i := columnIndex(c.Columns, k); i >= 0 && i < len(img) {
			if txt, err := pgtext.Encode(nil, img[i]); err == nil {
				b.Write(txt)
			} else {
				b.WriteString(img[i].Kind.String())
			}
		}
	}
	b.WriteByte(')')
	return b.String()
}

// planCopy turns a run of inserts into one COPY in text format.
func (p *plan) planCopy(t *change.Txn, tt *targetTable, cols []string, run []change.Change) error {
	buf := make([]byte, 0, len(run)*64*len(cols)/4)
	for k := range run {
		var ci int
		var err error
		if buf, ci, err = pgtext.AppendCopyRow(buf, run[k].After); err != nil {
			return fmt.Errorf("insert key %s column %s: %w", keyString(tt, &run[k]), cols[ci], err)
		}
	}
	p.stmts = append(p.stmts, stmt{sql: copySQL(tt.name, cols), copyData: buf, op: change.OpInsert,
		rows: len(run), first: &run[0], pos: t.Position})
	return nil
}
