package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5"
)

// SchemaSQL returns the statements that create bgsync's own objects on a
// PostgreSQL target. They are idempotent.
func SchemaSQL(schema string) []string {
	s := quoteIdent(schema)
	return []string{
		"CREATE SCHEMA IF NOT EXISTS " + s,
		`CREATE TABLE IF NOT EXISTS ` + s + `.checkpoints (
	direction            text PRIMARY KEY,
	source_position      numeric(20,0) NOT NULL,
	source_position_text text NOT NULL,
	source_commit_time   timestamptz,
	kafka_offset         bigint NOT NULL DEFAULT -1,
	txns_applied         bigint NOT NULL DEFAULT 0,
	updated_at           timestamptz NOT NULL DEFAULT now()
)`,
	}
}

// ownTables are the tables bgsync creates in its schema.
var ownTables = []string{"checkpoints"}

// DropSchema removes bgsync's schema and its tables. It refuses, naming
// them, when the schema holds anything bgsync did not create, so a schema
// name that collides with the user's never costs user data.
func DropSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	var foreign []string
	err := conn.QueryRow(ctx, `SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r','v','m','p','f','S') AND NOT (c.relname = ANY($2))
  AND NOT (c.relkind = 'S' AND c.relname LIKE '%_seq')`, schema, ownTables).Scan(&foreign)
	if err != nil {
		return fmt.Errorf("inspect schema %s: %w", schema, err)
	}
	if len(foreign) > 0 {
		return fmt.Errorf("schema %s holds objects bgsync did not create (%s); not dropped", schema, strings.Join(foreign, ", "))
	}
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+quoteIdent(schema)+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

// targetTable is what the target says about one table.
type targetTable struct {
	name    change.Table
	columns map[string]string // name → type
	key     []string          // primary key columns, in index order
}

// errNoTable is returned by loadTable when the table does not exist.
var errNoTable = errors.New("table does not exist")

func loadTable(ctx context.Context, conn *pgx.Conn, t change.Table) (*targetTable, error) {
	rows, err := conn.Query(ctx, `
SELECT a.attname, format_type(a.atttypid, a.atttypmod),
       coalesce(array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1, 0)
FROM pg_attribute a
LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2))
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("inspect target table %s: %w", t, err)
	}
	tt := &targetTable{name: t, columns: map[string]string{}}
	keyPos := map[int]string{}
	for rows.Next() {
		var name, typ string
		var pos int
		if err := rows.Scan(&name, &typ, &pos); err != nil {
			return nil, fmt.Errorf("inspect target table %s: %w", t, err)
		}
		tt.columns[name] = typ
		if pos > 0 {
			keyPos[pos] = name
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inspect target table %s: %w", t, err)
	}
	if len(tt.columns) == 0 {
		return nil, fmt.Errorf("target table %s: %w", t, errNoTable)
	}
	for i := 1; i <= len(keyPos); i++ {
		tt.key = append(tt.key, keyPos[i])
	}
	if len(tt.key) == 0 {
		return nil, fmt.Errorf("target table %s has no primary key", t)
	}
	return tt, nil
}

// CheckTargets verifies that every target table exists and has a primary
// key, listing every problem at once.
func CheckTargets(ctx context.Context, conn *pgx.Conn, tables []change.Table) error {
	var errs []error
	for _, t := range tables {
		if _, err := loadTable(ctx, conn, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
