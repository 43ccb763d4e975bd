package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// rowState is what the applier knows of one target row while it resolves a
// group: the row as the group's earlier changes left it.
type rowState struct {
	exists bool
	row    change.Row // in target column order; KindAbsent = not known
	// local: the version may hold an application write. MySQL records no
	// writer per row, so a row read from the target is taken as local; a
	// row this group wrote is not.
	local bool
	// deleted is the time of the application's last delete of the key
	// (its tombstone), zero when none is known.
	deleted time.Time
	// colTimes (column-merge tables) is the time of the application's
	// last write of each column, by column name (columns.go).
	colTimes map[string]time.Time
}

// tableState is the rows of one target table that a group touches.
type tableState struct {
	tt     *TargetTable
	rule   conflict.Rule
	keyIdx []int                     // key columns' indexes in tt.Columns
	rows   map[string]*rowState      // by canonical key
	want   map[string][]change.Value // keys to fetch: canonical key → key values
	uses   map[string]int            // changes of the group still to read each key
	// hints, per target column, is an incoming value of the column: its
	// Kind is the Kind the target's value is read back as (see Decode).
	hints []change.Value
	// truncated: a TRUNCATE earlier in the group removed every row not
	// written since.
	truncated bool
	// json: the table has a JSON column (compared by data: same).
	json bool
}

func newTableState(tt *TargetTable, rule conflict.Rule) *tableState {
	st := &tableState{tt: tt, rule: rule, rows: map[string]*rowState{}, want: map[string][]change.Value{},
		uses: map[string]int{}, hints: make([]change.Value, len(tt.Columns))}
	for _, k := range tt.Key {
		st.keyIdx = append(st.keyIdx, tt.index[k])
	}
	for _, c := range tt.Columns {
		st.json = st.json || c.JSON
	}
	return st
}

// canonicalKey encodes key values (in key order) as a map key.
func canonicalKey(vals []change.Value) string {
	var buf []byte
	for _, v := range vals {
		buf = change.AppendValue(buf, v)
	}
	return string(buf)
}

func known(v change.Value) bool { return v.Kind != change.KindAbsent && v.Kind != change.KindUnchanged }

// keyOf returns the canonical key of img (a row image aligned with cols)
// and its key values; ok is false when the image lacks a key value.
func (st *tableState) keyOf(cols []change.Column, img change.Row) (string, []change.Value, bool) {
	if img == nil {
		return "", nil, false
	}
	vals := make([]change.Value, len(st.tt.Key))
	for n, k := range st.tt.Key {
		i := columnIndex(cols, k)
		if i < 0 || i >= len(img) || !known(img[i]) || img[i].Kind == change.KindNull {
			return "", nil, false
		}
		vals[n] = img[i]
	}
	return canonicalKey(vals), vals, true
}

// hint records the Kinds of an incoming image's values.
func (st *tableState) hint(cols []change.Column, img change.Row) {
	for i, v := range img {
		if i >= len(cols) || !known(v) || v.Kind == change.KindNull {
			continue
		}
		if j, ok := st.tt.index[cols[i].Name]; ok && st.hints[j].Kind == change.KindNull {
			st.hints[j] = v
		}
	}
}

// lookup returns the state of key, fetched or as the group left it.
func (st *tableState) lookup(key string) *rowState {
	rs, ok := st.rows[key]
	if !ok {
		rs = &rowState{}
		st.rows[key] = rs
	}
	return rs
}

// aligned returns the row's values for cols (KindAbsent where unknown).
func (st *tableState) aligned(rs *rowState, cols []change.Column) change.Row {
	out := make(change.Row, len(cols))
	for i, c := range cols {
		out[i] = change.Absent()
		if j, ok := st.tt.index[c.Name]; ok && j < len(rs.row) {
			out[i] = rs.row[j]
		}
	}
	return out
}

// write records that the applier wrote img (aligned with cols) to rs;
// KindUnchanged values keep what rs had. A column it writes counts as the
// stream's from then on (no application write time), as every column of
// a row it creates.
func (st *tableState) write(rs *rowState, cols []change.Column, img change.Row, whole bool) {
	if !rs.exists {
		rs.colTimes = nil
	}
	if whole || !rs.exists || rs.row == nil {
		rs.row = make(change.Row, len(st.tt.Columns))
		for i := range rs.row {
			rs.row[i] = change.Absent()
		}
	} else {
		rs.row = append(change.Row(nil), rs.row...)
	}
	for i, c := range cols {
		if j, ok := st.tt.index[c.Name]; ok && i < len(img) && img[i].Kind != change.KindUnchanged {
			rs.row[j] = img[i]
			delete(rs.colTimes, c.Name)
		}
	}
	rs.exists, rs.local = true, false
}

// fetchChunk caps the keys of one current-rows query.
const fetchChunk = 1000

// fetch reads, inside the open target transaction, the current rows of
// every key the group touches, locked FOR UPDATE so the application cannot
// change them until COMMIT: one query per table (per 1000 keys); then
// their tombstones and, under column-merge, their column write times
// (after the rows: a delete or write the row lock waited for has
// committed its tombstone or times by then).
func (a *Applier) fetch(ctx context.Context, tx *sql.Tx, st *tableState) error {
	if len(st.want) == 0 {
		return nil
	}
	keys := make([][]change.Value, 0, len(st.want))
	for _, vals := range st.want {
		keys = append(keys, vals)
	}
	for len(keys) > 0 {
		n := min(len(keys), fetchChunk)
		if err := a.fetchKeys(ctx, tx, st, keys[:n]); err != nil {
			return err
		}
		byHash, args := keyHashArgs(st, keys[:n])
		if err := a.fetchTombstones(ctx, tx, st, byHash, args); err != nil {
			return err
		}
		if st.rule.Policy == conflict.ColumnMerge {
			if err := a.fetchColumnTimes(ctx, tx, st, byHash, args); err != nil {
				return err
			}
		}
		keys = keys[n:]
	}
	return nil
}

func (a *Applier) fetchKeys(ctx context.Context, tx *sql.Tx, st *tableState, keys [][]change.Value) error {
	tt := st.tt
	args := make([]any, 0, len(keys)*len(tt.Key))
	for _, vals := range keys {
		for n, v := range vals {
			arg, err := Encode(tt.Columns[st.keyIdx[n]], v)
			if err != nil {
				return &ApplyError{Table: tt.Name, Op: change.OpUpdate, Key: "(current rows)", Column: tt.Key[n], Err: err}
			}
			args = append(args, arg)
		}
	}
	rows, err := tx.QueryContext(ctx, currentSQL(tt, len(keys)), args...)
	if err != nil {
		return a.fetchError(tt, err)
	}
	defer rows.Close()
	nc := len(tt.Columns)
	raw := make([]sql.RawBytes, nc)
	dest := make([]any, nc)
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return a.fetchError(tt, err)
		}
		rs := &rowState{exists: true, local: true, row: make(change.Row, nc)}
		for i, c := range tt.Columns {
			v, err := Decode(c, raw[i], st.hints[i])
			if err != nil {
				return fmt.Errorf("table %s column %s: read current row: %w", tt.Name, c.Name, err)
			}
			rs.row[i] = v
		}
		vals := make([]change.Value, len(st.keyIdx))
		for n, i := range st.keyIdx {
			vals[n] = rs.row[i]
		}
		st.rows[canonicalKey(vals)] = rs
	}
	if err := rows.Err(); err != nil {
		return a.fetchError(tt, err)
	}
	return nil
}

// currentSQL selects every column of the rows with n keys, locked:
// SELECT cols FROM t WHERE (k1, k2) IN ((?, ?), ...) FOR UPDATE.
func currentSQL(tt *TargetTable, n int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range tt.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
	}
	b.WriteString(" FROM " + quoteTable(tt.Name) + " WHERE ")
	appendKeyIn(&b, tt.Key, n)
	b.WriteString(" FOR UPDATE")
	return b.String()
}

// appendKeyIn writes "k IN (?, ...)" for a one-column key and
// "(k1, k2) IN ((?, ?), ...)" for a composite one.
func appendKeyIn(b *strings.Builder, key []string, n int) {
	tuple := "?"
	if len(key) == 1 {
		b.WriteString(quoteIdent(key[0]))
	} else {
		b.WriteByte('(')
		for i, k := range key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(k))
		}
		b.WriteByte(')')
		tuple = "(?" + strings.Repeat(", ?", len(key)-1) + ")"
	}
	b.WriteString(" IN (")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteByte(')')
}

func (a *Applier) fetchError(tt *TargetTable, err error) error {
	if isStatementError(err) {
		return &ApplyError{Table: tt.Name, Op: change.OpUpdate, Key: "(current rows)", Err: err}
	}
	return &TargetError{Op: "read current rows of " + tt.Name.String(), Err: err}
}
