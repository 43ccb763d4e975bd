package transform

import (
	"context"
	"errors"
	"fmt"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/jackc/pgx/v5"
)

// ErrNoTable: the table does not exist, or has no columns to sync.
var ErrNoTable = errors.New("no such table (or it has no columns)")

// ReadColumns reads the live columns of a PostgreSQL table, in column
// order, for Compile. Generated columns are left out: logical replication
// does not send them and no one writes them.
func ReadColumns(ctx context.Context, conn *pgx.Conn, t change.Table) ([]Column, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, a.attnotnull,
	a.atthasdef OR a.attidentity <> '', coalesce(a.attnum = ANY(i.indkey), false)
FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum`, pgx.Identifier{t.Schema, t.Name}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Column, error) {
		var c Column
		err := r.Scan(&c.Name, &c.Type, &c.OID, &c.NotNull, &c.HasDefault, &c.Key)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: %w", t, ErrNoTable)
	}
	return cols, nil
}

// DecodeRow turns the text form of one row of cols (nil for NULL), as
// PostgreSQL prints it, into a change.Row in column order. Types pgtext
// does not model (enums, arrays of user types) keep their text.
func DecodeRow(cols []Column, fields [][]byte) (change.Row, error) {
	if len(fields) != len(cols) {
		return nil, fmt.Errorf("row has %d fields for %d columns", len(fields), len(cols))
	}
	row := make(change.Row, len(cols))
	for i, f := range fields {
		if f == nil {
			row[i] = change.Null()
			continue
		}
		v, err := pgtext.Decode(cols[i].OID, f)
		if err != nil {
			return nil, fmt.Errorf("column %s (%s): %w", cols[i].Name, cols[i].Type, err)
		}
		row[i] = v
	}
	return row, nil
}

// ChangeColumns returns cols as a change's column list.
func ChangeColumns(cols []Column) []change.Column {
	out := make([]change.Column, len(cols))
	for i, c := range cols {
		out[i] = change.Column{Name: c.Name, Type: c.Type, Key: c.Key}
	}
	return out
}
