package mysql

import (
	"context"
	"database/sql"
	"slices"

	"github.com/bgsync/bgsync/change"
)

// TextTable is a table's stored columns as a reader of its own SELECTs
// decodes them: each value exactly as Capture decodes the same row from
// the binlog, as SnapshotView.Read does, without a snapshot view. verify
// reads MariaDB/MySQL rows that feed a transform through it.
//
// The session that runs the SELECTs must print as a view's session does:
// time_zone '+00:00' (TIMESTAMP in UTC) and text in UTF-8 (utf8mb4
// results, or the column's own utf8mb4/utf8mb3/ascii bytes).
type TextTable struct {
	st *snapTable
}

// LoadTextTable describes t's stored columns (generated ones are left
// out) read through conn. A column type capture does not decode is a
// *SnapshotError naming the table and column.
func LoadTextTable(ctx context.Context, conn *sql.Conn, t change.Table) (*TextTable, error) {
	st, err := loadTable(ctx, conn, t)
	if err != nil {
		return nil, err
	}
	return &TextTable{st: st}, nil
}

// Columns describes the columns in table order, Key set on the primary
// key, Type as capture names it: a change carrying decoded rows lists
// these.
func (tt *TextTable) Columns() []change.Column { return slices.Clone(tt.st.columns) }

// Select is the select-list expression of the column named name (a CAST
// where capture's form needs one: FLOAT/DOUBLE as DOUBLE, UUID and INET6
// as their 16 bytes); ok is false when t has no such stored column.
func (tt *TextTable) Select(name string) (expr string, ok bool) {
	i := tt.index(name)
	if i < 0 {
		return "", false
	}
	c := &tt.st.cols[i]
	expr = quoteName(c.name)
	switch c.read {
	case readFloat:
		expr = "CAST(" + expr + " AS DOUBLE)"
	case readBinary16:
		expr = "CAST(" + expr + " AS BINARY(16))"
	}
	return expr, true
}

// Decoder returns the decoder of the column named name, which turns the
// text of one value (nil: NULL) into the value capture gives it; ok is
// false when t has no such stored column.
func (tt *TextTable) Decoder(name string) (dec func(raw []byte) (change.Value, error), ok bool) {
	i := tt.index(name)
	if i < 0 {
		return nil, false
	}
	c := &tt.st.cols[i]
	return c.decode, true
}

func (tt *TextTable) index(name string) int {
	return slices.IndexFunc(tt.st.cols, func(c snapColumn) bool { return c.name == name })
}
