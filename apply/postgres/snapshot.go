package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// snapshotSQL creates the tables that keep a direction's initial copy:
// one row per copy (snapshots) and its plan, one row per key range of a
// source table (snapshot_chunks), marked done in the transaction that
// wrote the range's rows.
func snapshotSQL(s string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + s + `.snapshots (
	direction        text PRIMARY KEY,
	source_side      text NOT NULL,
	target_not_empty text NOT NULL,
	started_at       timestamptz NOT NULL DEFAULT now(),
	finished_at      timestamptz,
	starts           integer NOT NULL DEFAULT 1
)`,
		`CREATE TABLE IF NOT EXISTS ` + s + `.snapshot_chunks (
	direction            text NOT NULL,
	table_name           text NOT NULL,
	chunk                integer NOT NULL,
	lower_key            jsonb,
	upper_key            jsonb,
	done                 boolean NOT NULL DEFAULT false,
	rows_copied          bigint,
	source_position      numeric(20,0),
	source_position_text text,
	copied_at            timestamptz,
	PRIMARY KEY (direction, table_name, chunk)
)`,
	}
}

// SnapshotChunk is one key range of a source table in a copy's plan:
// rows with Lower <= key < Upper (nil: open), in the source's cut form.
type SnapshotChunk struct {
	Table        change.Table // source table
	N            int
	Lower, Upper []string
	Done         bool
	Rows         int64
	Position     change.Position // of the view it was read under, once done
	CopiedAt     time.Time
}

// SnapshotPlan is a direction's copy as the target records it.
type SnapshotPlan struct {
	From           string // the source side
	TargetNotEmpty string
	Started        time.Time
	Finished       time.Time // zero until every chunk is done
	Starts         int       // how many times the copy was started
	Chunks         []SnapshotChunk
}

// LoadSnapshot reads direction's copy plan; nil when none was started.
func LoadSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string) (*SnapshotPlan, error) {
	s := quoteIdent(schema)
	p := &SnapshotPlan{}
	var fin *time.Time
	err := conn.QueryRow(ctx, `SELECT source_side, target_not_empty, started_at, finished_at, starts FROM `+s+
		`.snapshots WHERE direction = $1`, direction).Scan(&p.From, &p.TargetNotEmpty, &p.Started, &fin, &p.Starts)
	if errors.Is(err, pgx.ErrNoRows) || isUndefinedTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the snapshot of %s: %w", direction, err)
	}
	if fin != nil {
		p.Finished = *fin
	}
	rows, err := conn.Query(ctx, `SELECT table_name, chunk, lower_key, upper_key, done, coalesce(rows_copied, 0),
	coalesce(source_position, 0)::text, copied_at FROM `+s+`.snapshot_chunks WHERE direction = $1 ORDER BY table_name, chunk`, direction)
	if err != nil {
		return nil, fmt.Errorf("read the snapshot chunks of %s: %w", direction, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c SnapshotChunk
		var name, pos string
		var lower, upper []byte
		var at *time.Time
		if err := rows.Scan(&name, &c.N, &lower, &upper, &c.Done, &c.Rows, &pos, &at); err != nil {
			return nil, fmt.Errorf("read the snapshot chunks of %s: %w", direction, err)
		}
		if c.Table, err = parseTableName(name); err != nil {
			return nil, err
		}
		if lower != nil {
			if err := json.Unmarshal(lower, &c.Lower); err != nil {
				return nil, fmt.Errorf("snapshot chunk %s #%d: lower_key: %w", name, c.N, err)
			}
		}
		if upper != nil {
			if err := json.Unmarshal(upper, &c.Upper); err != nil {
				return nil, fmt.Errorf("snapshot chunk %s #%d: upper_key: %w", name, c.N, err)
			}
		}
		v, err := strconv.ParseUint(pos, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("snapshot chunk %s #%d: position %q: %w", name, c.N, pos, err)
		}
		c.Position = change.Position(v)
		if at != nil {
			c.CopiedAt = *at
		}
		p.Chunks = append(p.Chunks, c)
	}
	return p, rows.Err()
}

// parseTableName reads back a table name as change.Table.String printed
// it, with each part quoted where pgx.Identifier quotes it.
func parseTableName(s string) (change.Table, error) {
	schema, name, ok := strings.Cut(s, ".")
	if !ok {
		return change.Table{}, fmt.Errorf("snapshot chunk: table name %q is not schema.table", s)
	}
	return change.Table{Schema: schema, Name: name}, nil
}

// HasCheckpoint reports whether direction has applied anything on this
// target (its checkpoint row exists).
func HasCheckpoint(ctx context.Context, conn *pgx.Conn, schema, direction string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(schema)+`.checkpoints WHERE direction = $1)`, direction).Scan(&ok)
	if isUndefinedTable(err) {
		return false, nil
	}
	return ok, err
}

// NonEmpty lists the tables that hold at least one row.
func NonEmpty(ctx context.Context, conn *pgx.Conn, tables []change.Table) ([]change.Table, error) {
	var out []change.Table
	for _, t := range tables {
		var any bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteTable(t)+`)`).Scan(&any); err != nil {
			return nil, fmt.Errorf("target table %s: %w", t, err)
		}
		if any {
			out = append(out, t)
		}
	}
	return out, nil
}

// StartSnapshot records a new copy's plan and, first, empties the truncate
// tables, in one transaction tagged with origin (so the other direction's
// capture drops the TRUNCATE instead of sending it back).
func StartSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string, plan *SnapshotPlan, truncate []change.Table, origin string) error {
	s := quoteIdent(schema)
	for _, q := range SchemaSQL(schema) {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create bgsync schema objects: %w", err)
		}
	}
	if _, err := UseOrigin(ctx, conn, origin); err != nil {
		return fmt.Errorf("replication origin %s: %w", origin, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_replication_origin_session_reset()`)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if len(truncate) > 0 {
			names := make([]string, len(truncate))
			for i, t := range truncate {
				names[i] = quoteTable(t)
			}
			if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
				return fmt.Errorf("truncate %s: %w", strings.Join(names, ", "), err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+s+`.snapshot_chunks WHERE direction = $1`, direction); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s+`.snapshots (direction, source_side, target_not_empty) VALUES ($1, $2, $3)
ON CONFLICT (direction) DO UPDATE SET source_side = EXCLUDED.source_side, target_not_empty = EXCLUDED.target_not_empty,
	started_at = now(), finished_at = NULL, starts = 1`, direction, plan.From, plan.TargetNotEmpty); err != nil {
			return fmt.Errorf("record the snapshot: %w", err)
		}
		rows := make([][]any, len(plan.Chunks))
		for i, c := range plan.Chunks {
			rows[i] = []any{direction, c.Table.String(), c.N, jsonKey(c.Lower), jsonKey(c.Upper)}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "snapshot_chunks"},
			[]string{"direction", "table_name", "chunk", "lower_key", "upper_key"}, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("record the snapshot plan: %w", err)
		}
		return nil
	})
}

func jsonKey(k []string) any {
	if k == nil {
		return nil
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// RestartSnapshot counts one more start of an unfinished copy.
func RestartSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string) error {
	_, err := conn.Exec(ctx, `UPDATE `+quoteIdent(schema)+`.snapshots SET starts = starts + 1 WHERE direction = $1`, direction)
	return err
}

// FinishSnapshot ends a copy whose chunks are all done: the direction's
// checkpoint is set to pos (the lowest position a chunk was read at:
// streaming skips everything at or below it) in the same transaction that
// marks the copy finished.
func FinishSnapshot(ctx context.Context, conn *pgx.Conn, schema, direction string, pos change.Position, posText string) error {
	s := quoteIdent(schema)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var pending int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+s+`.snapshot_chunks WHERE direction = $1 AND NOT done`, direction).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return fmt.Errorf("snapshot of %s: %d chunks are not copied yet", direction, pending)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s+`.checkpoints (direction, source_position, source_position_text)
VALUES ($1, $2, $3) ON CONFLICT (direction) DO NOTHING`, direction, strconv.FormatUint(uint64(pos), 10), posText); err != nil {
			return fmt.Errorf("set the checkpoint of %s: %w", direction, err)
		}
		_, err := tx.Exec(ctx, `UPDATE `+s+`.snapshots SET finished_at = now() WHERE direction = $1`, direction)
		return err
	})
}

// CatchUpThrough is the highest position a chunk of direction's copy was
// read at (0 without a copy): changes up to it may already be in some
// chunks, so the applier applies them idempotently.
func CatchUpThrough(ctx context.Context, conn *pgx.Conn, schema, direction string) (change.Position, error) {
	var pos string
	err := conn.QueryRow(ctx, `SELECT coalesce(max(source_position), 0)::text FROM `+quoteIdent(schema)+
		`.snapshot_chunks WHERE direction = $1 AND done`, direction).Scan(&pos)
	if isUndefinedTable(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(pos, 10, 64)
	return change.Position(v), err
}

// ChunkWriter writes copied key ranges into a PostgreSQL target, one
// connection with its own replication origin (the other direction's
// capture drops what it writes).
type ChunkWriter struct {
	conn              *pgx.Conn
	schema, direction string
}

// OpenChunkWriter connects to the target and tags the session with origin.
func OpenChunkWriter(ctx context.Context, dsn, schema, direction, origin string) (*ChunkWriter, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("snapshot: parse the target DSN: %w", redactParseErr(err))
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "bgsync snapshot"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &TargetError{Op: "connect to the target", Err: err}
	}
	if _, err := UseOrigin(ctx, conn, origin); err != nil {
		conn.Close(ctx)
		return nil, &TargetError{Op: "replication origin " + origin, Err: err}
	}
	return &ChunkWriter{conn: conn, schema: schema, direction: direction}, nil
}

// Close ends the writer's session.
func (w *ChunkWriter) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.conn.Close(ctx)
}

// Merge says how a chunk meets rows the target already has.
type Merge struct {
	// Policy is the table's conflict policy name; Favoured is true when
	// the source's row wins outright (the policy favours the source's
	// side), false when the target's does; with LWW set, last-writer-wins
	// decides by TimestampColumn, or else by the target row's commit time
	// against the snapshot's time.
	Policy          string
	SourceWins      bool
	LWW             bool
	Manual          bool
	TimestampColumn string
	Key             []string // the target's primary key columns
}

// CopyCommitTime is the commit time the target records (through the
// replication origin) for the rows an initial copy writes: older than any
// write, so under last-writer-wins every later change of a copied row
// wins over it, however its source stamps commit times (MariaDB stamps a
// transaction with its first statement's start, which can precede the
// snapshot it commits after).
var CopyCommitTime = time.Unix(0, 0).UTC()

// Write copies one chunk: rows in COPY text of cols from r into target,
// and the chunk marked done with pos, in one transaction (committed with
// CopyCommitTime). With merge set, rows whose key the target already has
// are decided by merge — under last-writer-wins the copied row counts as
// written at (the snapshot's time) — and each differing one is logged in
// the conflicts table. It returns the rows copied.
func (w *ChunkWriter) Write(ctx context.Context, c SnapshotChunk, target change.Table, cols []string, r io.Reader,
	pos change.Position, posText string, at time.Time, merge *Merge) (int64, error) {
	s := quoteIdent(w.schema)
	var n int64
	err := pgx.BeginFunc(ctx, w.conn, func(tx pgx.Tx) error {
		lsn := fmt.Sprintf("%X/%X", uint32(pos>>32), uint32(pos))
		if _, err := tx.Exec(ctx, `SELECT pg_replication_origin_xact_setup($1::pg_lsn, $2)`, lsn, CopyCommitTime); err != nil {
			return &TargetError{Op: "tag the chunk's transaction", Err: err}
		}
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = quoteIdent(c)
		}
		into := quoteTable(target)
		if merge != nil {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS bgsync_snapshot_stage (LIKE `+into+`) ON COMMIT DROP`); err != nil {
				return fmt.Errorf("target table %s: stage the chunk: %w", target, err)
			}
			into = "bgsync_snapshot_stage"
		}
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, r, "COPY "+into+" ("+strings.Join(names, ", ")+") FROM STDIN")
		if err != nil {
			return fmt.Errorf("target table %s: copy chunk %d of %s: %w", target, c.N, c.Table, err)
		}
		n = tag.RowsAffected()
		if merge != nil {
			if err := w.merge(ctx, tx, c, target, cols, posText, at, merge); err != nil {
				return err
			}
		}
		done, err := tx.Exec(ctx, `UPDATE `+s+`.snapshot_chunks SET done = true, rows_copied = $4, source_position = $5,
	source_position_text = $6, copied_at = now()
WHERE direction = $1 AND table_name = $2 AND chunk = $3 AND NOT done`,
			w.direction, c.Table.String(), c.N, n, strconv.FormatUint(uint64(pos), 10), posText)
		if err != nil {
			return fmt.Errorf("mark chunk %d of %s done: %w", c.N, c.Table, err)
		}
		if done.RowsAffected() != 1 {
			return fmt.Errorf("chunk %d of %s is done already or no longer planned (is another bgsync copying %s?)", c.N, c.Table, w.direction)
		}
		return nil
	})
	return n, err
}

// merge moves the staged chunk into target: new keys are inserted; a key
// the target has with a different row is a conflict, logged, and decided
// by m.
func (w *ChunkWriter) merge(ctx context.Context, tx pgx.Tx, c SnapshotChunk, target change.Table, cols []string, posText string, at time.Time, m *Merge) error {
	into := quoteTable(target)
	key := quoteAll(m.Key)
	var sets, diff []string
	for _, col := range cols {
		q := quoteIdent(col)
		sets = append(sets, q+" = EXCLUDED."+q)
		diff = append(diff, "s."+q+" IS DISTINCT FROM t."+q)
	}
	var keyJSON []string
	var join []string
	for i, k := range key {
		keyJSON = append(keyJSON, quoteLiteral(m.Key[i])+", to_jsonb(s."+k+")")
		join = append(join, "t."+k+" = s."+k)
	}
	// incoming: whether the staged row s beats the target's row t.
	incoming := "false"
	switch {
	case m.Manual:
	case m.LWW && m.TimestampColumn != "":
		tc := quoteIdent(m.TimestampColumn)
		incoming = "(t." + tc + " IS NULL OR s." + tc + " > t." + tc + ")"
	case m.LWW:
		incoming = "coalesce(pg_xact_commit_timestamp(t.xmin) <= $2::timestamptz, true)"
	case m.SourceWins:
		incoming = "true"
	}
	resolution := `CASE WHEN ` + incoming + ` THEN 'incoming_wins' ELSE 'target_wins' END`
	if m.Manual {
		resolution = `'unresolved'`
	}
	logSQL := `INSERT INTO ` + quoteIdent(w.schema) + `.conflicts (direction, table_name, key, kind, policy, resolution, reason,
	incoming_op, incoming_after, target_row, incoming_commit_time, target_commit_time, source_position, resolved)
SELECT $1, ` + quoteLiteral(target.String()) + `, jsonb_build_object(` + strings.Join(keyJSON, ", ") + `), 'insert_exists', $3, ` + resolution + `,
	'the initial copy met a row the target already had (target_not_empty: merge)', 'insert', to_jsonb(s), to_jsonb(t),
	$2::timestamptz, pg_xact_commit_timestamp(t.xmin), $4, ` + strconv.FormatBool(!m.Manual) + `
FROM bgsync_snapshot_stage s JOIN ` + into + ` t ON ` + strings.Join(join, " AND ") + `
WHERE ` + strings.Join(diff, " OR ")
	if _, err := tx.Exec(ctx, logSQL, w.direction, at, m.Policy, posText); err != nil {
		return fmt.Errorf("target table %s: log the conflicts of chunk %d: %w", target, c.N, err)
	}
	names := strings.Join(quoteAll(cols), ", ")
	upsert := `INSERT INTO ` + into + ` AS t (` + names + `) SELECT ` + names + ` FROM bgsync_snapshot_stage
ON CONFLICT (` + strings.Join(key, ", ") + `) DO `
	if incoming == "false" {
		upsert += "NOTHING"
	} else {
		// EXCLUDED is the staged row: the same test, written over it.
		cond := strings.ReplaceAll(incoming, "s.", "EXCLUDED.")
		upsert += "UPDATE SET " + strings.Join(sets, ", ") + " WHERE " + cond
	}
	args := []any{}
	if strings.Contains(upsert, "$2") {
		upsert = strings.ReplaceAll(upsert, "$2", "$1")
		args = append(args, at)
	}
	if _, err := tx.Exec(ctx, upsert, args...); err != nil {
		return fmt.Errorf("target table %s: merge chunk %d: %w", target, c.N, err)
	}
	_, err := tx.Exec(ctx, `DROP TABLE bgsync_snapshot_stage`)
	return err
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quoteIdent(n)
	}
	return out
}

// isUndefinedTable reports SQLSTATE 42P01 (bgsync's tables not made yet).
func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

// redactParseErr drops the text of a DSN parse error, which can quote the
// DSN and its password.
func redactParseErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid connection string")
	}
	return err
}
