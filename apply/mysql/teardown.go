package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Execer is what DropSchema needs: a *sql.DB or *sql.Conn.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// OwnTables are the tables SchemaSQL creates in bgsync's database.
var OwnTables = []string{"checkpoints", "conflicts", TombstoneTable, ColumnWritesTable, "dead_letters", "verify_runs", MarkerTableName}

// DropSchema removes bgsync's tables from its database schema: OwnTables
// and those named in more (what the capture side created there), after
// the tombstone and column-write triggers setup put on synced tables
// (found by name, in every database: a trigger left behind would fail
// the application's writes once its table is gone). The
// database itself goes only when nothing is left in it — no table, view,
// routine or event — so a database bgsync shares with the application
// keeps every user table and row. It reports whether the database was
// dropped; a database that does not exist is left alone.
func DropSchema(ctx context.Context, db Execer, schema string, more ...string) (bool, error) {
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", schema).Scan(&n); err != nil {
		return false, fmt.Errorf("inspect database %s: %w", schema, err)
	}
	if n == 0 {
		return false, nil
	}
	for _, tr := range []struct{ prefix, table string }{
		{tombstonePrefix(schema), TombstoneTable},
		{columnInsertPrefix(schema), ColumnWritesTable},
		{columnUpdatePrefix(schema), ColumnWritesTable},
	} {
		if err := dropTriggers(ctx, db, schema, tr.prefix, tr.table); err != nil {
			return false, err
		}
	}
	names := append(append([]string{}, OwnTables...), more...)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = quoteIdent(schema) + "." + quoteIdent(n)
	}
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+strings.Join(quoted, ", ")); err != nil {
		return false, fmt.Errorf("drop bgsync's tables in %s: %w", schema, err)
	}
	var left int64
	err := db.QueryRowContext(ctx, `SELECT
	(SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?) +
	(SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) +
	(SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?)`, schema, schema, schema).Scan(&left)
	if err != nil {
		return false, fmt.Errorf("inspect database %s: %w", schema, err)
	}
	if left > 0 {
		return false, nil
	}
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(schema)); err != nil {
		return false, fmt.Errorf("drop database %s: %w", schema, err)
	}
	return true, nil
}
