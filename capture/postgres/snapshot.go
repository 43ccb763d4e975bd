package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SnapshotSource opens consistent views of a PostgreSQL source for the
// initial copy.
//
// Open creates a TEMPORARY logical replication slot with an exported
// snapshot (CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT) on a replication
// connection that stays open, idle, until the last view is closed: that is
// what keeps the snapshot importable. Every view is a REPEATABLE READ, READ
// ONLY transaction that imports it (SET TRANSACTION SNAPSHOT), so all views
// see the same rows, and their Position is the slot's consistent point: a
// transaction whose commit ends at or before it is in the snapshot, every
// later one is decoded by a slot from there on. The direction's own slot
// (made by setup, earlier) is not touched: its changes up to the consistent
// point are skipped by the target's checkpoint, and the copier advances it
// once the copy is done.
type SnapshotSource struct {
	DSN string
	// SlotPrefix names the temporary slot (prefix + random suffix).
	SlotPrefix string
}

// Open implements snapshot.Source.
func (s *SnapshotSource) Open(ctx context.Context, n int) ([]*SnapshotView, error) {
	if n < 1 {
		n = 1
	}
	repl, err := connectReplication(ctx, s.DSN, "")
	if err != nil {
		return nil, err
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	slot := s.SlotPrefix + "snap_" + hex.EncodeToString(suffix[:])
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true, SnapshotAction: "EXPORT_SNAPSHOT", Mode: pglogrepl.LogicalReplication})
	if err != nil {
		closeConn(repl)
		return nil, &SourceError{Op: "create temporary slot " + slot + " with an exported snapshot", Err: err}
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		closeConn(repl)
		return nil, fmt.Errorf("slot %s: consistent point %q: %w", slot, res.ConsistentPoint, err)
	}
	keep := &exported{repl: repl, open: n}
	views := make([]*SnapshotView, 0, n)
	for range n {
		v, err := openView(ctx, s.DSN, res.SnapshotName, change.Position(lsn), keep)
		if err != nil {
			for _, v := range views {
				v.Close()
			}
			keep.release(n - len(views))
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// exported holds the replication connection that keeps the exported
// snapshot alive, until its last view is closed.
type exported struct {
	mu   sync.Mutex
	repl *pgconn.PgConn
	open int
}

func (e *exported) release(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.open -= n
	if e.open <= 0 && e.repl != nil {
		closeConn(e.repl) // drops the temporary slot
		e.repl = nil
	}
}

// SnapshotView is one connection reading under the exported snapshot.
type SnapshotView struct {
	conn   *pgx.Conn
	pos    change.Position
	types  *pgtext.Registry
	keep   *exported
	closed bool
	cols   map[change.Table][]viewColumn
	keys   map[change.Table][]string // primary-key columns in key order
}

type viewColumn struct {
	change.Column
	oid uint32
}

func openView(ctx context.Context, dsn, snapshot string, pos change.Position, keep *exported) (*SnapshotView, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("snapshot: parse DSN: %w", redactErr(err))
	}
	// Print values as pgtext reads them, whatever the server's defaults.
	for k, v := range map[string]string{"datestyle": "ISO, MDY", "intervalstyle": "postgres",
		"extra_float_digits": "3", "bytea_output": "hex", "timezone": "UTC", "application_name": "bgsync snapshot"} {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &SourceError{Op: fmt.Sprintf("connect to %s:%d for the snapshot", cfg.Host, cfg.Port), Err: err}
	}
	v := &SnapshotView{conn: conn, pos: pos, keep: keep, cols: map[change.Table][]viewColumn{}, keys: map[change.Table][]string{}}
	if _, err := conn.Exec(ctx, `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`); err != nil {
		conn.Close(ctx)
		return nil, &SourceError{Op: "begin the snapshot transaction", Err: err}
	}
	if _, err := conn.Exec(ctx, `SET TRANSACTION SNAPSHOT `+quoteLiteral(snapshot)); err != nil {
		conn.Close(ctx)
		return nil, &SourceError{Op: "import snapshot " + snapshot, Err: err}
	}
	v.types = &pgtext.Registry{}
	rows := conn.PgConn().ExecParams(ctx, pgtext.TypesQuery, nil, nil, nil, nil).Read()
	if rows.Err != nil {
		conn.Close(ctx)
		return nil, &SourceError{Op: "read pg_type", Err: rows.Err}
	}
	for _, r := range rows.Rows {
		if err := v.types.RegisterPgType(r); err != nil {
			conn.Close(ctx)
			return nil, err
		}
	}
	return v, nil
}

// Position implements snapshot.View.
func (v *SnapshotView) Position() change.Position { return v.pos }

// Close ends the view's transaction and connection.
func (v *SnapshotView) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := v.conn.Close(ctx)
	v.keep.release(1)
	return err
}

// Columns implements snapshot.View: the table's stored columns in order,
// generated columns left out.
func (v *SnapshotView) Columns(ctx context.Context, t change.Table) ([]change.Column, error) {
	vc, err := v.columns(ctx, t)
	if err != nil {
		return nil, err
	}
	out := make([]change.Column, len(vc))
	for i, c := range vc {
		out[i] = c.Column
	}
	return out, nil
}

func (v *SnapshotView) columns(ctx context.Context, t change.Table) ([]viewColumn, error) {
	if c, ok := v.cols[t]; ok {
		return c, nil
	}
	rows, err := v.conn.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid,
	COALESCE(a.attnum = ANY (i.indkey), false)
FROM pg_attribute a
LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum`, quoteTable(t))
	if err != nil {
		return nil, &SourceError{Op: "read the columns of " + t.String(), Err: err}
	}
	var out []viewColumn
	keys := 0
	for rows.Next() {
		var c viewColumn
		if err := rows.Scan(&c.Name, &c.Type, &c.oid, &c.Key); err != nil {
			rows.Close()
			return nil, &SourceError{Op: "read the columns of " + t.String(), Err: err}
		}
		if c.Key {
			keys++
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, &SourceError{Op: "read the columns of " + t.String(), Err: err}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("snapshot: table %s does not exist on the source", t)
	}
	if keys == 0 {
		return nil, fmt.Errorf("snapshot: table %s has no primary key; its rows cannot be cut into ranges or matched on the target", t)
	}
	v.cols[t] = out
	return out, nil
}

// keyColumns lists the primary-key columns in key order (read once per
// table and view: every chunk's COPY needs them).
func (v *SnapshotView) keyColumns(ctx context.Context, t change.Table) ([]string, error) {
	if k, ok := v.keys[t]; ok {
		return k, nil
	}
	rows, err := v.conn.Query(ctx, `SELECT a.attname FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY k.n`, quoteTable(t))
	if err != nil {
		return nil, &SourceError{Op: "read the primary key of " + t.String(), Err: err}
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, &SourceError{Op: "read the primary key of " + t.String(), Err: err}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("snapshot: table %s has no primary key", t)
	}
	v.keys[t] = keys
	return keys, nil
}

// Estimate implements snapshot.View (pg_class.reltuples).
func (v *SnapshotView) Estimate(ctx context.Context, t change.Table) (int64, error) {
	var n float64
	if err := v.conn.QueryRow(ctx, `SELECT GREATEST(reltuples, 0) FROM pg_class WHERE oid = to_regclass($1)`, quoteTable(t)).Scan(&n); err != nil {
		return 0, &SourceError{Op: "estimate the rows of " + t.String(), Err: err}
	}
	return int64(n), nil
}

// Split implements snapshot.View. Cuts are the key columns printed as
// text; they are read back as quoted literals, which PostgreSQL converts
// to the key columns' types, so every type round-trips.
func (v *SnapshotView) Split(ctx context.Context, t change.Table, rows int) ([][]string, error) {
	keys, err := v.keyColumns(ctx, t)
	if err != nil {
		return nil, err
	}
	if rows < 1 {
		rows = 1
	}
	sel := make([]string, len(keys))
	for i, k := range keys {
		// Aliased: ORDER BY a bare name would sort by the text output.
		sel[i] = quoteIdent(k) + "::text AS " + quoteIdent("bgsync_cut_"+strconv.Itoa(i))
	}
	var cuts [][]string
	var last []string
	for {
		where := ""
		if last != nil {
			where = " WHERE " + keyRow(keys) + " > " + literalRow(last)
		}
		// The first cut is row rows (from 0); each next one, rows rows past
		// the previous cut.
		offset := rows
		if last != nil {
			offset = rows - 1
		}
		q := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s OFFSET %d LIMIT 1",
			strings.Join(sel, ", "), quoteTable(t), where, strings.Join(quoteAll(keys), ", "), offset)
		vals := make([]string, len(keys))
		ptrs := make([]any, len(keys))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		err := v.conn.QueryRow(ctx, q).Scan(ptrs...)
		if errors.Is(err, pgx.ErrNoRows) {
			return cuts, nil
		}
		if err != nil {
			return nil, &SourceError{Op: "cut " + t.String() + " into ranges", Err: err}
		}
		cuts = append(cuts, vals)
		last = vals
	}
}

// rangeWhere is the WHERE clause of the rows with lower <= key < upper.
func rangeWhere(keys []string, lower, upper []string) string {
	var conds []string
	if lower != nil {
		conds = append(conds, keyRow(keys)+" >= "+literalRow(lower))
	}
	if upper != nil {
		conds = append(conds, keyRow(keys)+" < "+literalRow(upper))
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func keyRow(keys []string) string { return "(" + strings.Join(quoteAll(keys), ", ") + ")" }

func literalRow(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quoteLiteral(v)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quoteIdent(n)
	}
	return out
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// copySQL is the COPY of a range's columns, in key order.
func (v *SnapshotView) copySQL(ctx context.Context, t change.Table, lower, upper []string) (string, []viewColumn, error) {
	cols, err := v.columns(ctx, t)
	if err != nil {
		return "", nil, err
	}
	keys, err := v.keyColumns(ctx, t)
	if err != nil {
		return "", nil, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	if len(lower) != 0 && len(lower) != len(keys) || len(upper) != 0 && len(upper) != len(keys) {
		return "", nil, fmt.Errorf("snapshot: table %s: a range bound has %d/%d values for %d key columns (was the primary key changed since the copy was planned?)",
			t, len(lower), len(upper), len(keys))
	}
	return fmt.Sprintf("COPY (SELECT %s FROM %s%s) TO STDOUT", strings.Join(names, ", "), quoteTable(t),
		rangeWhere(keys, lower, upper)), cols, nil
}
