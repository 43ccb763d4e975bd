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
	return append([]string{
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
		`CREATE TABLE IF NOT EXISTS ` + s + `.conflicts (
	id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	detected_at          timestamptz NOT NULL DEFAULT now(),
	direction            text NOT NULL,
	table_name           text NOT NULL,
	key                  jsonb NOT NULL,
	kind                 text NOT NULL,
	policy               text NOT NULL,
	resolution           text NOT NULL,
	reason               text NOT NULL,
	incoming_op          text NOT NULL,
	incoming_before      jsonb,
	incoming_after       jsonb,
	target_row           jsonb,
	incoming_commit_time timestamptz,
	target_commit_time   timestamptz,
	source_position      text NOT NULL,
	source_xid           bigint,
	resolved             boolean NOT NULL,
	resolved_at          timestamptz,
	resolved_by          text
)`,
		`CREATE INDEX IF NOT EXISTS conflicts_unresolved ON ` + s + `.conflicts (table_name, key) WHERE NOT resolved`,
		`CREATE TABLE IF NOT EXISTS ` + s + `.tombstones (
	table_name  text NOT NULL,
	key         jsonb NOT NULL,
	xid         xid8 NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (table_name, key)
)`,
		// The application's deletes leave a tombstone (which transaction
		// deleted which key), so conflict resolution can order a delete
		// against a write that raced it. bgsync's own sessions carry a
		// replication origin and leave none. SECURITY DEFINER: the
		// application's role needs no rights on bgsync's schema or on the
		// replication origin functions. TimeZone UTC: the key's JSON must
		// not depend on the deleting session's zone (the applier's session
		// is in UTC too).
		`CREATE OR REPLACE FUNCTION ` + s + `.record_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog SET TimeZone = 'UTC' AS $fn$
BEGIN
	IF pg_replication_origin_session_is_setup() THEN
		RETURN NULL;
	END IF;
	INSERT INTO ` + s + `.tombstones AS t (table_name, key, xid)
	VALUES (quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME),
	        (SELECT jsonb_object_agg(k, to_jsonb(OLD) -> k) FROM unnest(TG_ARGV) AS k),
	        pg_current_xact_id())
	ON CONFLICT (table_name, key) DO UPDATE SET xid = EXCLUDED.xid, recorded_at = now();
	DELETE FROM ` + s + `.column_writes
	WHERE table_name = quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME)
	  AND key = (SELECT jsonb_object_agg(k, to_jsonb(OLD) -> k) FROM unnest(TG_ARGV) AS k);
	RETURN NULL;
END
$fn$`,
		// xact_time is the commit time of a transaction recorded as xid8,
		// NULL when unknown: aborted, older than commit timestamps reach,
		// or so old that its 32-bit xid has been reused.
		`CREATE OR REPLACE FUNCTION ` + s + `.xact_time(x xid8) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
SELECT CASE WHEN x::text::bigint > pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 2000000000
	THEN pg_xact_commit_timestamp((x::text::bigint % 4294967296)::text::xid) END
$fn$`,
		// bgsync verify records every run here, on both sides, for the
		// gates: when verify last ran, and what it found.
		// Rows a transform could not map, from tables with on_error:
		// dead-letter. One per source change: a replay finds it there.
		`CREATE TABLE IF NOT EXISTS ` + s + `.dead_letters (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	recorded_at     timestamptz NOT NULL DEFAULT now(),
	direction       text NOT NULL,
	source_table    text NOT NULL,
	target_table    text NOT NULL,
	key             jsonb NOT NULL,
	op              text NOT NULL,
	column_name     text NOT NULL,
	expression      text NOT NULL,
	error           text NOT NULL,
	source_before   jsonb,
	source_after    jsonb,
	source_position text NOT NULL,
	change_seq      integer NOT NULL,
	commit_time     timestamptz,
	handled_at      timestamptz,
	UNIQUE (direction, source_position, change_seq)
)`,
		`CREATE INDEX IF NOT EXISTS dead_letters_pending ON ` + s + `.dead_letters (direction) WHERE handled_at IS NULL`,
		`CREATE TABLE IF NOT EXISTS ` + s + `.verify_runs (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	started_at  timestamptz NOT NULL,
	finished_at timestamptz NOT NULL,
	status      text NOT NULL,
	report      jsonb NOT NULL
)`,
		`CREATE TABLE IF NOT EXISTS ` + s + `.column_writes (
	table_name text NOT NULL,
	key        jsonb NOT NULL,
	cols       jsonb NOT NULL,
	PRIMARY KEY (table_name, key)
)`,
		// column-merge tables: which transaction last wrote each column of
		// a row, for the application's writes only (bgsync's sessions carry
		// a replication origin and record nothing).
		`CREATE OR REPLACE FUNCTION ` + s + `.record_columns() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog SET TimeZone = 'UTC' AS $fn$
DECLARE
	n   jsonb := to_jsonb(NEW);
	o   jsonb;
	x   jsonb := to_jsonb(pg_current_xact_id()::text);
	cols jsonb;
BEGIN
	IF pg_replication_origin_session_is_setup() THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		o := to_jsonb(OLD);
	END IF;
	SELECT jsonb_object_agg(e.key, x) INTO cols FROM jsonb_each(n) AS e
	WHERE o IS NULL OR e.value IS DISTINCT FROM o -> e.key;
	IF cols IS NULL THEN
		RETURN NULL;
	END IF;
	INSERT INTO ` + s + `.column_writes AS w (table_name, key, cols)
	VALUES (quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME),
	        (SELECT jsonb_object_agg(k, n -> k) FROM unnest(TG_ARGV) AS k), cols)
	ON CONFLICT (table_name, key) DO UPDATE SET cols = w.cols || EXCLUDED.cols;
	RETURN NULL;
END
$fn$`,
	}, snapshotSQL(s)...)
}

// TombstoneTriggerName is the trigger setup puts on each synced table.
func TombstoneTriggerName(schema string) string { return schema + "_tombstone" }

// TombstoneTriggerSQL returns the statements that put the tombstone trigger
// on table t, whose primary key is key. They are idempotent.
func TombstoneTriggerSQL(schema string, t change.Table, key []string) []string {
	args := make([]string, len(key))
	for i, k := range key {
		args[i] = quoteLiteral(k)
	}
	trig := quoteIdent(TombstoneTriggerName(schema))
	return []string{
		"DROP TRIGGER IF EXISTS " + trig + " ON " + quoteTable(t),
		"CREATE TRIGGER " + trig + " AFTER DELETE ON " + quoteTable(t) +
			" FOR EACH ROW EXECUTE FUNCTION " + quoteIdent(schema) + ".record_delete(" + strings.Join(args, ", ") + ")",
	}
}

// ColumnTriggerName is the trigger setup puts on column-merge tables.
func ColumnTriggerName(schema string) string { return schema + "_columns" }

// ColumnTriggerSQL returns the statements that put the column-write
// trigger on table t (primary key key) when merge is set, and remove it
// otherwise. They are idempotent.
func ColumnTriggerSQL(schema string, t change.Table, key []string, merge bool) []string {
	trig := quoteIdent(ColumnTriggerName(schema))
	out := []string{"DROP TRIGGER IF EXISTS " + trig + " ON " + quoteTable(t)}
	if !merge {
		return out
	}
	args := make([]string, len(key))
	for i, k := range key {
		args[i] = quoteLiteral(k)
	}
	return append(out, "CREATE TRIGGER "+trig+" AFTER INSERT OR UPDATE ON "+quoteTable(t)+
		" FOR EACH ROW EXECUTE FUNCTION "+quoteIdent(schema)+".record_columns("+strings.Join(args, ", ")+")")
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TableKey returns the primary key columns of t on conn.
func TableKey(ctx context.Context, conn *pgx.Conn, t change.Table) ([]string, error) {
	tt, err := loadTable(ctx, conn, t)
	if err != nil {
		return nil, err
	}
	return tt.key, nil
}

// ownTables are the tables bgsync creates in its schema: these, and the
// heartbeat table setup creates on each source (capture/postgres).
var ownTables = []string{"checkpoints", "conflicts", "tombstones", "column_writes", "verify_runs", "heartbeats", "dead_letters",
	"snapshots", "snapshot_chunks"}

// DropSchema removes bgsync's schema with its tables (the triggers on
// synced tables go with its functions). When the schema also holds objects
// bgsync did not create — the config's name is a user schema too — only
// bgsync's own tables and functions are dropped, the schema and those
// objects stay, and kept names them: a shared name never costs user data.
func DropSchema(ctx context.Context, conn *pgx.Conn, schema string) (kept []string, err error) {
	err = conn.QueryRow(ctx, `SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r','v','m','p','f','S') AND NOT (c.relname = ANY($2))
  AND NOT (c.relkind = 'S' AND c.relname LIKE '%_seq')`, schema, ownTables).Scan(&kept)
	if err != nil {
		return nil, fmt.Errorf("inspect schema %s: %w", schema, err)
	}
	if len(kept) == 0 {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+quoteIdent(schema)+" CASCADE"); err != nil {
			return nil, fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil, nil
	}
	s := quoteIdent(schema)
	// The functions first, CASCADE: that takes the triggers setup put on
	// synced tables, and nothing else depends on them. The tables without
	// CASCADE: an object of the user's that depends on one is an error,
	// not a casualty.
	stmts := []string{
		"DROP FUNCTION IF EXISTS " + s + ".record_delete() CASCADE",
		"DROP FUNCTION IF EXISTS " + s + ".record_columns() CASCADE",
		"DROP FUNCTION IF EXISTS " + s + ".xact_time(xid8)",
	}
	for _, t := range ownTables {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+s+"."+quoteIdent(t))
	}
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return kept, fmt.Errorf("schema %s (kept: it holds %s): %s: %w", schema, strings.Join(kept, ", "), q, err)
		}
	}
	return kept, nil
}

// targetTable is what the target says about one table.
type targetTable struct {
	name    change.Table
	columns map[string]string // name → type
	order   []string          // column names in table order
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
		tt.order = append(tt.order, name)
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
